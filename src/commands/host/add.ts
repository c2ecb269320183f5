import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {addHost} from '../../cli/host.js'
import {PRESETS} from '../../core/presets.js'
import {mutate} from '../../state/store.js'

export default class HostAdd extends AplabCommand {
  static override summary = 'Add a host built from a preset to the state'
  static override description = 'The current host stays current; select the new one with aplab host use, --host or APLAB_HOST.'
  static override examples = ['<%= config.bin %> host add lpar2 --preset vfio-ap-doc']
  static override args = {name: Args.string({description: 'name of the new host', required: true})}
  static override flags = {
    preset: Flags.string({char: 'p', description: 'preset to build the host from', default: 'default', options: PRESETS.map((p) => p.name)}),
  }

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HostAdd)
    await mutate(this.env(flags).state, (w) => void addHost(w, args.name, flags.preset))
  }
}
