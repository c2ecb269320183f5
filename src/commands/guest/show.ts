import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {info, locate} from '../../cli/guest.js'
import {load} from '../../state/store.js'
import {guestShow} from '../../views/guest.js'

export default class GuestShow extends AplabCommand {
  static override summary = 'Show a guest: host, state, CPU model and AP features, vfio-ap device, the APQNs it has'
  static override examples = ['<%= config.bin %> guest show guest1', "<%= config.bin %> guest show guest1 --json | jq -r '.apqns[]'"]
  static override args = {name: Args.string({description: 'the guest', required: true})}
  static override flags = {json: Flags.boolean({description: 'print JSON (APQNs as 05.0004, control domains as 0004, as shown)'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestShow)
    const {host, guest} = locate(await load(this.env(flags).state), args.name)
    const i = info(host, guest)
    process.stdout.write(flags.json ? JSON.stringify(i, null, 2) + '\n' : guestShow(i))
  }
}
