import {Args} from '@oclif/core'

import {AplabCommand} from '../../cli/base.js'
import {info, locate} from '../../cli/guest.js'
import {load} from '../../state/store.js'
import {guestShow} from '../../views/guest.js'

export default class GuestShow extends AplabCommand {
  static override summary = 'Show a guest: host, state, CPU model and AP features, vfio-ap device, the APQNs it has'
  static override args = {name: Args.string({description: 'the guest', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestShow)
    const {host, guest} = locate(await load(this.env(flags).state), args.name)
    process.stdout.write(guestShow(info(host, guest)))
  }
}
