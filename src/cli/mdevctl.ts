// Running mdevctl (or lsmdev) on the emulated host, or on a real directory
// tree when MDEVCTL_ENV_ROOT is set, as mdevctl 1.3.0+ does. The same
// function serves the drop-in binaries and `aplab mdevctl`.

import type {World} from '../core/model.js'
import {Stdio} from '../tools/libc.js'
import type {CalloutResult, MdevctlEnv} from '../tools/mdevctl.js'
import {type Env, emit, errorMessage, pickHost} from './env.js'

export type MdevctlProg = 'mdevctl' | 'lsmdev'

/**
 * Whether a command line only reads: lsmdev, list, types, and whatever
 * ends in help, a version or a usage error (no subcommand). Those run
 * without the state lock.
 */
export function readOnly(prog: MdevctlProg, argv: string[]): boolean {
  if (prog === 'lsmdev') return true
  const sub = argv.find((a) => !a.startsWith('-'))
  return sub === undefined || sub === 'list' || sub === 'types' || sub === 'help'
}

/** A callout or notifier executed for real (on a real tree): no shell, stdin as given. */
async function realCallout(): Promise<MdevctlEnv['callout']> {
  const {spawnSync} = await import('node:child_process')
  const {KernelError} = await import('../core/errors.js')
  return (script, args, stdin): CalloutResult => {
    const r = spawnSync(script, args, {input: stdin ?? '', encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe']})
    if (r.error) {
      const code = (r.error as NodeJS.ErrnoException).code
      throw new KernelError(code === 'ENOENT' ? 'ENOENT' : 'EACCES')
    }
    return {code: r.status ?? 0, stdout: r.stdout, stderr: r.stderr, ...(r.signal ? {signal: r.signal} : {})}
  }
}

/** --jsonfile names a file of the caller's, relative to the caller's working directory. */
async function callerFile(): Promise<(path: string) => Uint8Array> {
  const fs = await import('node:fs')
  return (path) => fs.readFileSync(path)
}

export async function runMdevctlTool(prog: MdevctlProg, argv: string[], env: Env): Promise<number> {
  const envRoot = env.mdevctlRoot
  const io = new Stdio(true) // Rust's stdout is line buffered, on a pipe too
  let code: number
  try {
    const {runMdevctl} = await import('../tools/mdevctl.js')
    const {randomUUID} = await import('node:crypto')
    const base = {prog, newUuid: () => randomUUID(), readJsonFile: await callerFile()}
    if (envRoot !== undefined) {
      const {RealSys} = await import('../tools/sys.js')
      const root = envRoot.replace(/\/+$/, '')
      code = runMdevctl(argv, {...base, fs: new RealSys(root + '/sys'), root, callout: await realCallout()}, io)
    } else {
      const {hostVfs} = await import('../sysfs/host.js')
      const {hostCallout} = await import('../tools/apcheck.js')
      const store = await import('../state/store.js')
      const run = (w: World): number => {
        const vfs = hostVfs(pickHost(w, env.host), env.uid)
        return runMdevctl(argv, {...base, fs: vfs, root: '', callout: hostCallout(vfs)}, io)
      }
      if (readOnly(prog, argv)) code = run(await store.load(env.state))
      else {
        // A command that fails leaves the state as it was (a failed start
        // removes its device again; only its kernel messages would remain).
        const failed = {code: 0}
        try {
          code = await store.mutate(env.state, (w) => {
            const c = run(w)
            if (c !== 0) throw Object.assign(failed, {code: c})
            return c
          })
        } catch (e) {
          if (e !== failed) throw e
          code = failed.code
        }
      }
    }
  } catch (e) {
    const {message, exitCode} = errorMessage(e)
    io.err(`${prog}: ${message}\n`)
    code = exitCode
  }
  emit(io)
  return code
}
