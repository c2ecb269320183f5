import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {remove} from '../../cli/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestRemove extends AplabCommand {
  static override summary = "Forget a stopped guest"
  static override examples = ['<%= config.bin %> guest remove guest1']
  static override args = {name: Args.string({description: 'the guest', required: true})}
  

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestRemove)
    await this.tool(() => mutate(this.env(flags).state, (w) => remove(w, args.name)))
  }
}
