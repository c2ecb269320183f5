import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {reset} from '../../cli/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestReset extends AplabCommand {
  static override summary = "Reset a guest (system_reset): its kernel boots again with the same APCB"
  static override examples = ['<%= config.bin %> guest reset guest1']
  static override args = {name: Args.string({description: 'the guest', required: true})}
  

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestReset)
    await this.tool(() => mutate(this.env(flags).state, (w) => reset(w, args.name)))
  }
}
