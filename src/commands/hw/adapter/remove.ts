import {Args} from '../../../cli/flags.js'

import {AplabCommand} from '../../../cli/base.js'
import {pickHost} from '../../../cli/env.js'
import {removeAdapter, parseHwId} from '../../../core/hw.js'
import {mutate} from '../../../state/store.js'

export default class HwAdapterRemove extends AplabCommand {
  static override summary = "Remove an adapter from the LPAR's AP configuration, as on the SE/HMC"
  static override description =
    'The host is notified as by the machine (CHSC), its AP bus rescans, and vfio_ap updates the guests: what left is unplugged from them, what arrived (over-provisioned in an mdev) is plugged in.'
  static override examples = ['<%= config.bin %> hw adapter remove 0x07']
  static override args = {id: Args.string({description: 'the adapter id, decimal or 0x hex', required: true})}
  

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HwAdapterRemove)
    const env = this.env(flags)
    await mutate(env.state, (w) => removeAdapter(pickHost(w, env.host), parseHwId(args.id)))
  }
}
