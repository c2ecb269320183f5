// `aplab sysfs cat|ls|write`: shared by the oclif commands and the fast
// dispatch in main.ts, so both paths behave the same.

import {load, mutate} from '../state/store.js'
import {hostVfs} from '../sysfs/host.js'
import {type ShellResult, cat, echo, ls} from '../sysfs/shell.js'
import {type Env, pickHost} from './env.js'

export type SysfsVerb = 'cat' | 'ls' | 'write'

export async function runSysfs(verb: SysfsVerb, operands: string[], env: Env, noNewline = false): Promise<number> {
  let r: ShellResult
  if (verb === 'write') {
    const [path, value] = operands
    const text = noNewline ? value : value + '\n'
    // Every store function validates before it changes anything, so a refused
    // write leaves the state as it was and nothing is written back.
    r = await mutate(env.state, (w) => echo(hostVfs(pickHost(w, env.host), env.uid), path, text))
  } else {
    const vfs = hostVfs(pickHost(await load(env.state), env.host), env.uid)
    r = verb === 'cat' ? cat(vfs, operands) : ls(vfs, operands)
  }
  process.stdout.write(r.stdout)
  process.stderr.write(r.stderr)
  return r.code
}
