import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {monitorDel} from '../../cli/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestDeviceDel extends AplabCommand {
  static override summary = "QEMU monitor: device_del ID"
  static override examples = ['<%= config.bin %> guest device-del guest1 vfio0', '<%= config.bin %> guest device-del guest1 /machine/peripheral-anon/device[0]']
  static override args = {name: Args.string({description: 'the guest', required: true}), id: Args.string({description: 'the device id', required: true})}
  

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestDeviceDel)
    await this.tool(() => mutate(this.env(flags).state, (w) => monitorDel(w, args.name, args.id)))
  }
}
