import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {migrate} from '../../cli/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestMigrate extends AplabCommand {
  static override summary = "Live-migrate a running guest to another host of the state"
  static override examples = ['<%= config.bin %> guest migrate guest1 --to lpar2']
  static override args = {name: Args.string({description: 'the guest', required: true})}
  static override flags = {to: Flags.string({description: 'the target host', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestMigrate)
    await this.tool(() => mutate(this.env(flags).state, (w) => migrate(w, args.name, flags.to)))
  }
}
