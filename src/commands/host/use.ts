import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {useHost} from '../../cli/host.js'
import {mutate} from '../../state/store.js'

export default class HostUse extends AplabCommand {
  static override summary = 'Make a host the current one, for every command without --host or APLAB_HOST'
  static override examples = ['<%= config.bin %> host use lpar2']
  static override args = {name: Args.string({description: 'the host', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HostUse)
    await mutate(this.env(flags).state, (w) => useHost(w, args.name))
  }
}
