import {Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {mdevInfos} from '../../cli/mdev.js'
import {load} from '../../state/store.js'
import {mdevTable} from '../../views/mdev.js'

export default class MdevList extends AplabCommand {
  static override summary = 'List the running mdevs and the mdevctl definitions'
  static override examples = ['<%= config.bin %> mdev list', "<%= config.bin %> mdev list --json | jq -r '.[].uuid'"]
  static override flags = {json: Flags.boolean({description: 'print JSON (IDs in hex: adapters 0x05, domains 0x0004)'})}

  public async run(): Promise<void> {
    const {flags} = await this.parse(MdevList)
    const env = this.env(flags)
    const rows = mdevInfos(pickHost(await load(env.state), env.host))
    if (flags.json) {
      const {mdevJson} = await import('../../views/json.js')
      return void process.stdout.write(JSON.stringify(rows.map(mdevJson), null, 2) + '\n')
    }
    process.stdout.write(await mdevTable(rows))
  }
}
