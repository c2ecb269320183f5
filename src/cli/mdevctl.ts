// Running mdevctl (or lsmdev) on the emulated host, or on a real directory
// tree when MDEVCTL_ENV_ROOT is set, as mdevctl 1.3.0+ does. The same
// function serves the drop-in binaries and `aplab mdevctl`.

import type {Host} from '../core/model.js'
import {Stdio} from '../tools/libc.js'
import type {CalloutResult, MdevctlEnv} from '../tools/mdevctl/environment.js'
import {asTool, onHost} from './dropin.js'
import type {Env} from './env.js'
import {newUuid} from './uuid.js'

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
  const io = new Stdio(true) // Rust's stdout is line buffered, on a pipe too
  return asTool(prog, io, async () => {
    const {runMdevctl} = await import('../tools/mdevctl/main.js')
    const base = {prog, newUuid, readJsonFile: await callerFile()}
    if (env.mdevctlRoot !== undefined) {
      const {RealSys} = await import('../tools/sys.js')
      const root = env.mdevctlRoot.replace(/\/+$/, '')
      return runMdevctl(argv, {...base, fs: new RealSys(root + '/sys'), root, callout: await realCallout()}, io)
    }
    const {hostVfs} = await import('../sysfs/host.js')
    const {hostCallout} = await import('../tools/apcheck.js')
    return onHost(env, readOnly(prog, argv) ? 'read' : 'write', (host) => {
      const vfs = hostVfs(host, env.uid)
      return runMdevctl(argv, {...base, fs: vfs, root: '', callout: hostCallout(vfs)}, io)
    })
  })
}

/** mdevctl run by aplab itself on a host (aplab mdev start/stop, the boot's start-parent-mdevs). */
export async function mdevctlOnHost(host: Host, argv: string[], uid = 0): Promise<{code: number; stderr: string}> {
  const [{runMdevctl}, {hostVfs}, {hostCallout}] = await Promise.all([import('../tools/mdevctl/main.js'), import('../sysfs/host.js'), import('../tools/apcheck.js')])
  const vfs = hostVfs(host, uid)
  const io = new Stdio(true)
  const code = runMdevctl(argv, {fs: vfs, root: '', prog: 'mdevctl', callout: hostCallout(vfs), newUuid}, io)
  return {code, stderr: io.stderr}
}
