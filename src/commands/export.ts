import {realpathSync} from 'node:fs'

import {Args, Flags} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'
import {pickHost} from '../cli/env.js'
import {UsageError} from '../core/errors.js'
import {load} from '../state/store.js'
import {apCheckScript, exportHost} from '../sysfs/export.js'

export default class Export extends AplabCommand {
  static override summary = 'Write the host as real files under ROOT (ROOT/sys, ROOT/proc, ROOT/etc)'
  static override description = 'Tools that read sysfs from a directory see the same host: SYSFS_ROOT=ROOT/sys lszcrypt -V.'
  static override examples = ['<%= config.bin %> export /tmp/host && SYSFS_ROOT=/tmp/host/sys lszcrypt -V']
  static override args = {root: Args.directory({description: 'folder to write the tree into', required: true})}
  static override flags = {force: Flags.boolean({char: 'f', description: 'replace ROOT/sys, ROOT/proc and ROOT/etc if they exist'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(Export)
    const env = this.env(flags)
    const host = pickHost(await load(env.state), env.host)
    try {
      // The callout runs this very aplab: node and the script it was started as.
      const self = realpathSync(process.argv[1])
      exportHost(host, args.root, flags.force, apCheckScript([process.execPath, self]))
    } catch (e) {
      throw new UsageError(exportFailure(args.root, e as NodeJS.ErrnoException))
    }
  }
}

/** Node's errors as a sentence naming the path, never the raw `EEXIST: file already exists, mkdir ...`. */
function exportFailure(root: string, e: NodeJS.ErrnoException): string {
  if (!e.code) return e.message
  const where = e.path ?? root
  const why: Record<string, string> = {
    EEXIST: `${where} exists and is not a directory`,
    ENOTDIR: `${where}: a part of the path is not a directory`,
    EACCES: `${where}: permission denied`,
    EPERM: `${where}: operation not permitted`,
    EROFS: `${where} is on a read-only file system`,
    ENOSPC: `no space left on the device of ${where}`,
  }
  return `cannot export to ${root}: ${why[e.code] ?? `${where}: ${e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}`}`
}
