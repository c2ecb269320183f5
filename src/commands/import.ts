import {Args} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'
import {UsageError} from '../core/errors.js'
import {mutate} from '../state/store.js'
import {importHost} from '../sysfs/import.js'

export default class Import extends AplabCommand {
  static override summary = 'Build a host from a tree laid out like a root file system (ROOT/sys, ROOT/proc, ROOT/etc)'
  static override description =
    'The imported host replaces the host named by --host (default: the current host), or is added under that name. A host that runs guests is not replaced (stop or migrate them first); its stopped guests and its libvirt domains (virsh define) are kept, as a host keeps its VM definitions when its devices change.'
  static override examples = ['<%= config.bin %> import /tmp/host', '<%= config.bin %> import ./copy-of-lpar7 --host lpar7']
  static override args = {root: Args.directory({description: 'folder holding sys/ (and proc/, etc/)', required: true, exists: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(Import)
    const env = this.env(flags)
    await mutate(env.state, (w) => {
      const name = env.host ?? w.current
      const host = importHost(args.root, name)
      const i = w.hosts.findIndex((h) => h.name === name)
      if (i < 0) return void w.hosts.push(host)
      // What runs on the host would lose its devices under it: refused, as `aplab host remove` refuses.
      const running = w.hosts[i].guests.filter((g) => g.running).map((g) => g.name)
      if (running.length) throw new UsageError(`host '${name}' runs guests: ${running.join(', ')} (stop or migrate them first)`)
      host.guests = w.hosts[i].guests
      // libvirt's domains (virsh define) are definitions too, not devices.
      if (w.hosts[i].libvirt) host.libvirt = w.hosts[i].libvirt
      w.hosts[i] = host
    })
  }
}
