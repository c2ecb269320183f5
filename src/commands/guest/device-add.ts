import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {monitorAdd} from '../../cli/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestDeviceAdd extends AplabCommand {
  static override summary = "QEMU monitor: device_add vfio-ap,sysfsdev=PATH,id=ID"
  static override examples = ['<%= config.bin %> guest device-add guest1 vfio-ap,sysfsdev=/sys/bus/mdev/devices/$UUID,id=vfio0']
  static override args = {name: Args.string({description: 'the guest', required: true}), device: Args.string({description: 'vfio-ap,sysfsdev=PATH[,id=ID]', required: true})}
  

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestDeviceAdd)
    const env = this.env(flags)
    await this.tool(() => mutate(env.state, (w) => monitorAdd(w, args.name, args.device, env.uid)))
  }
}
