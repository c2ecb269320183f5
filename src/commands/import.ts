import {Args} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'
import {mutate} from '../state/store.js'
import {importHost} from '../sysfs/import.js'

export default class Import extends AplabCommand {
  static override summary = 'Build a host from a tree laid out like a root file system (ROOT/sys, ROOT/proc, ROOT/etc)'
  static override description =
    'The imported host replaces the host named by --host (default: the current host), or is added under that name.'
  static override examples = ['<%= config.bin %> import /tmp/host', '<%= config.bin %> import ./copy-of-lpar7 --host lpar7']
  static override args = {root: Args.directory({description: 'folder holding sys/ (and proc/, etc/)', required: true, exists: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(Import)
    const env = this.env(flags)
    await mutate(env.state, (w) => {
      const name = env.host ?? w.current
      const host = importHost(args.root, name)
      const i = w.hosts.findIndex((h) => h.name === name)
      if (i >= 0) w.hosts[i] = host
      else w.hosts.push(host)
    })
  }
}
