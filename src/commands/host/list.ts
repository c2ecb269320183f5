import {Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {hostRows} from '../../cli/host.js'
import {load} from '../../state/store.js'
import {hostTable} from '../../views/aplab.js'

export default class HostList extends AplabCommand {
  static override summary = 'List the hosts of the state; * marks the current one'
  static override examples = ['<%= config.bin %> host list', '<%= config.bin %> host list --json']
  static override flags = {json: Flags.boolean({description: 'print JSON'})}

  public async run(): Promise<void> {
    const {flags} = await this.parse(HostList)
    const rows = hostRows(await load(this.env(flags).state))
    process.stdout.write(flags.json ? JSON.stringify(rows, null, 2) + '\n' : await hostTable(rows))
  }
}
