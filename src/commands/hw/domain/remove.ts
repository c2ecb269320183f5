import {Args, Flags} from '../../../cli/flags.js'

import {AplabCommand} from '../../../cli/base.js'
import {pickHost} from '../../../cli/env.js'
import {removeDomain, parseHwId} from '../../../core/hw.js'
import {mutate} from '../../../state/store.js'

export default class HwDomainRemove extends AplabCommand {
  static override summary = "Remove a domain from the LPAR's AP configuration"
  static override description =
    'The host is notified as by the machine (CHSC), its AP bus rescans, and vfio_ap updates the guests: what left is unplugged from them, what arrived (over-provisioned in an mdev) is plugged in.'
  static override examples = ['<%= config.bin %> hw domain remove 0x47']
  static override args = {id: Args.string({description: 'the domain id, decimal or 0x hex', required: true})}
  static override flags = {control: Flags.boolean({description: 'remove a control-only domain'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HwDomainRemove)
    const env = this.env(flags)
    await mutate(env.state, (w) => removeDomain(pickHost(w, env.host), parseHwId(args.id), flags.control))
  }
}
