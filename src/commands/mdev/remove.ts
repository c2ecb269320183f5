import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {remove} from '../../cli/mdev.js'
import {mutateKeepingLog} from '../../cli/refuse.js'

export default class MdevRemove extends AplabCommand {
  static override summary = 'Remove an mdev, like echo 1 > /sys/bus/mdev/devices/UUID/remove'
  static override examples = ['<%= config.bin %> mdev remove 62177883-f1bb-47f0-914d-32a22e3a8804']
  static override description = 'An mdevctl definition of the device stays; mdevctl undefine removes it.'
  static override args = {uuid: Args.string({description: 'the mdev', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(MdevRemove)
    const env = this.env(flags)
    await mutateKeepingLog(env.state, (w) => remove(pickHost(w, env.host), args.uuid, env.uid))
  }
}
