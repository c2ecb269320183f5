// Running a mirrored s390 tool (lszcrypt, chzcrypt) against the emulated
// host, or against a real tree when SYSFS_ROOT is set. The same function
// serves the drop-in binaries and `aplab lszcrypt` / `aplab chzcrypt`.

import {Stdio, raise} from '../tools/libc.js'
import {type Sys} from '../tools/sys.js'
import type {Host, World} from '../core/model.js'
import {type Env, emit, errorMessage, pickHost} from './env.js'

export type DropIn = 'lszcrypt' | 'chzcrypt'

/** Tools that only read sysfs run without the state lock. */
const READ_ONLY: Record<DropIn, boolean> = {lszcrypt: true, chzcrypt: false}

async function toolRunner(tool: DropIn): Promise<(argv: string[], sys: Sys, io: Stdio, afterArgv?: string) => number> {
  return tool === 'lszcrypt' ? (await import('../tools/lszcrypt.js')).runLszcrypt : (await import('../tools/chzcrypt.js')).runChzcrypt
}

export async function runDropIn(tool: DropIn, argv: string[], env: Env): Promise<number> {
  const io = new Stdio(env.stdoutIsTTY)
  return asTool(tool, io, async () => {
    const run = await toolRunner(tool)
    if (env.sysfsRoot) {
      const {RealSys} = await import('../tools/sys.js')
      return run(argv, new RealSys(env.sysfsRoot.replace(/\/+$/, '') || '/'), io, env.firstEnviron)
    }
    const {hostVfs} = await import('../sysfs/host.js')
    // A chzcrypt over several devices keeps what it changed before a failing one, as the kernel would.
    return onHost(env, READ_ONLY[tool] ? 'read' : 'write', (host) => run(argv, hostVfs(host, env.uid), io, env.firstEnviron))
  })
}

/**
 * A mirrored tool's run: its output in the order C's stdio gives it, aplab's
 * own errors under the tool's name. A tool the real one would have died in
 * (io.killedBy) ends this process by the same signal, after its output.
 */
export async function asTool(prog: string, io: Stdio, fn: () => Promise<number>): Promise<number> {
  let code: number
  try {
    code = await fn()
  } catch (e) {
    const {message, exitCode} = errorMessage(e)
    io.err(`${prog}: ${message}\n`)
    code = exitCode
  }
  emit(io)
  if (io.killedBy) raise(io.killedBy)
  return code
}

/**
 * Run a tool on the selected host of the state: without the lock when it
 * only reads; otherwise under the lock, saving what it changed. A tool that
 * fails keeps what the real one would have changed before failing (an
 * undefine done on one parent, a live update before its stored one is
 * refused); one refused up front changes nothing, so the file stays as it was.
 */
export async function onHost(env: Env, mode: 'read' | 'write', run: (host: Host) => number): Promise<number> {
  const store = await import('../state/store.js')
  const onWorld = (w: World): number => run(pickHost(w, env.host))
  return mode === 'read' ? onWorld(await store.load(env.state)) : store.mutate(env.state, onWorld)
}
