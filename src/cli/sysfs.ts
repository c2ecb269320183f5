// `aplab sysfs cat|ls|write`: shared by the oclif commands and the fast
// dispatch in main.ts, so both paths behave the same.

import {load, mutate} from '../state/store.js'
import {hostVfs} from '../sysfs/host.js'
import {type ReadlinkOptions, type ShellResult, cat, echo, ls, readlink} from '../sysfs/shell.js'
import {type Env, pickHost, writeOut} from './env.js'

export type SysfsVerb = 'cat' | 'ls' | 'write' | 'readlink'

/** The options of the verbs: -n of write (no newline) and of readlink, -l of ls, -f/-e/-v of readlink. */
export interface SysfsFlags extends ReadlinkOptions {
  long?: boolean
}

export async function runSysfs(verb: SysfsVerb, operands: string[], env: Env, flags: SysfsFlags = {}): Promise<number> {
  let r: ShellResult
  if (verb === 'write') {
    const [path, value] = operands
    const text = flags.noNewline ? value : value + '\n'
    // Every store function validates before it changes anything, so a refused
    // write leaves the state as it was and nothing is written back.
    r = await mutate(env.state, (w) => echo(hostVfs(pickHost(w, env.host), env.uid), path, text))
  } else {
    const host = pickHost(await load(env.state), env.host)
    const vfs = hostVfs(host, env.uid)
    if (verb === 'cat') r = cat(vfs, operands)
    else if (verb === 'readlink') r = readlink(vfs, operands, flags)
    else r = ls(vfs, operands, {long: flags.long, mtime: host.runtime.bootTime})
  }
  if (r.stdout) writeOut(1, r.stdout)
  if (r.stderr) writeOut(2, r.stderr)
  return r.code
}
