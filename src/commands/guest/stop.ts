import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {stop} from '../../cli/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestStop extends AplabCommand {
  static override summary = "Stop a guest: QEMU ends, the mdev is closed (the guest's APCB is cleared); the guest stays defined"
  static override examples = ['<%= config.bin %> guest stop guest1']
  static override args = {name: Args.string({description: 'the guest', required: true})}
  

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestStop)
    await this.tool(() => mutate(this.env(flags).state, (w) => stop(w, args.name)))
  }
}
