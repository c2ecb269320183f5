import {Flags} from '@oclif/core'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {mdevInfos} from '../../cli/mdev.js'
import {load} from '../../state/store.js'
import {mdevTable} from '../../views/mdev.js'

export default class MdevList extends AplabCommand {
  static override summary = 'List the running mdevs and the mdevctl definitions'
  static override flags = {json: Flags.boolean({description: 'print JSON'})}

  public async run(): Promise<void> {
    const {flags} = await this.parse(MdevList)
    const env = this.env(flags)
    const rows = mdevInfos(pickHost(await load(env.state), env.host))
    process.stdout.write(flags.json ? JSON.stringify(rows, null, 2) + '\n' : await mdevTable(rows))
  }
}
