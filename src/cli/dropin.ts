// Running a mirrored s390 tool (lszcrypt, chzcrypt) against the emulated
// host, or against a real tree when SYSFS_ROOT is set. The same function
// serves the drop-in binaries and `aplab lszcrypt` / `aplab chzcrypt`.

import {Stdio} from '../tools/libc.js'
import {type Sys} from '../tools/sys.js'
import {type Env, emit, errorMessage, pickHost} from './env.js'

export type DropIn = 'lszcrypt' | 'chzcrypt'

/** Tools that only read sysfs run without the state lock. */
const READ_ONLY: Record<DropIn, boolean> = {lszcrypt: true, chzcrypt: false}

async function toolRunner(tool: DropIn): Promise<(argv: string[], sys: Sys, io: Stdio) => number> {
  return tool === 'lszcrypt' ? (await import('../tools/lszcrypt.js')).runLszcrypt : (await import('../tools/chzcrypt.js')).runChzcrypt
}

export async function runDropIn(tool: DropIn, argv: string[], env: Env): Promise<number> {
  const io = new Stdio(env.stdoutIsTTY)
  let code: number
  try {
    const run = await toolRunner(tool)
    if (env.sysfsRoot) {
      const {RealSys} = await import('../tools/sys.js')
      code = run(argv, new RealSys(env.sysfsRoot.replace(/\/+$/, '') || '/'), io)
    } else {
      const {hostVfs} = await import('../sysfs/host.js')
      const store = await import('../state/store.js')
      if (READ_ONLY[tool]) {
        const world = await store.load(env.state)
        code = run(argv, hostVfs(pickHost(world, env.host), env.uid), io)
      } else {
        code = await store.mutate(env.state, (w) => run(argv, hostVfs(pickHost(w, env.host), env.uid), io))
      }
    }
  } catch (e) {
    const {message, exitCode} = errorMessage(e)
    io.err(`${tool}: ${message}\n`)
    code = exitCode
  }
  emit(io)
  return code
}
