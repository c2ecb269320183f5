import {Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {infos} from '../../cli/guest.js'
import {load} from '../../state/store.js'
import {guestTable} from '../../views/guest.js'

export default class GuestList extends AplabCommand {
  static override summary = 'List the guests of every host: state, host, vfio-ap device and APQNs'
  static override examples = ['<%= config.bin %> guest list', '<%= config.bin %> guest list --json']
  static override flags = {json: Flags.boolean({description: 'print JSON (APQNs as 05.0004, as shown)'})}

  public async run(): Promise<void> {
    const {flags} = await this.parse(GuestList)
    const rows = infos(await load(this.env(flags).state))
    process.stdout.write(flags.json ? JSON.stringify(rows, null, 2) + '\n' : await guestTable(rows))
  }
}
