import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {removeHost} from '../../cli/host.js'
import {mutate} from '../../state/store.js'

export default class HostRemove extends AplabCommand {
  static override summary = 'Remove a host from the state'
  static override examples = ['<%= config.bin %> host remove lpar2']
  static override description = 'A host that runs guests cannot be removed; the last host neither. Removing the current host makes the first remaining one current.'
  static override args = {name: Args.string({description: 'the host', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HostRemove)
    await mutate(this.env(flags).state, (w) => removeHost(w, args.name))
  }
}
