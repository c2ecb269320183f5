import {Args, Flags} from '../../../cli/flags.js'

import {AplabCommand} from '../../../cli/base.js'
import {pickHost} from '../../../cli/env.js'
import {addAdapter, parseHwId} from '../../../core/hw.js'
import {mutate} from '../../../state/store.js'

export default class HwAdapterAdd extends AplabCommand {
  static override summary = "Add an adapter to the LPAR's AP configuration, as on the SE/HMC"
  static override description =
    'The host is notified as by the machine (CHSC), its AP bus rescans, and vfio_ap updates the guests: what left is unplugged from them, what arrived (over-provisioned in an mdev) is plugged in.'
  static override examples = ['<%= config.bin %> hw adapter add 0x07 --type CEX8C']
  static override args = {id: Args.string({description: 'the adapter id, decimal or 0x hex', required: true})}
  static override flags = {type: Flags.string({description: 'the adapter type: CEX4 to CEX8 and A (accelerator), C (CCA) or P (EP11), such as CEX8C', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HwAdapterAdd)
    const env = this.env(flags)
    await mutate(env.state, (w) => addAdapter(pickHost(w, env.host), parseHwId(args.id), flags.type))
  }
}
