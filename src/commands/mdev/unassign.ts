import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {change} from '../../cli/mdev.js'
import {mutateKeepingLog} from '../../cli/refuse.js'

const id = (what: string) => Flags.string({description: `${what} (decimal, 0x hex or 0-prefixed octal); repeatable`, multiple: true, multipleNonGreedy: true})

export default class MdevUnassign extends AplabCommand {
  static override summary = 'Unassign adapters, domains and control domains from an mdev'
  static override description =
    'Adapters first, then domains, then control domains, each in the order given; the kernel checks each one as for a write to unassign_adapter, unassign_domain or unassign_control_domain. If one is refused, none is applied. The files are root\'s: another $APLAB_UID is refused.'
  static override examples = ['<%= config.bin %> mdev unassign $UUID --adapter 5 --adapter 6 --domain 4 --domain 0xab']
  static override args = {uuid: Args.string({description: 'the mdev', required: true})}
  static override flags = {adapter: id('adapter (APID)'), domain: id('usage domain (APQI)'), 'control-domain': id('control domain')}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(MdevUnassign)
    const env = this.env(flags)
    await mutateKeepingLog(env.state, (w) => change(pickHost(w, env.host), args.uuid, flags, true, env.uid))
  }
}
