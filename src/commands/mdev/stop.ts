import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {viaMdevctl} from '../../cli/mdev.js'
import {mutateKeepingLog} from '../../cli/refuse.js'

export default class MdevStop extends AplabCommand {
  static override summary = 'Stop a running mdev, like mdevctl stop -u UUID'
  static override description =
    'The device is removed, as by mdevctl: its definition stays, so it can be started again (and starts at boot when it is auto).'
  static override examples = ['<%= config.bin %> mdev stop 62177883-f1bb-47f0-914d-32a22e3a8804']
  static override args = {uuid: Args.string({description: 'the mdev', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(MdevStop)
    const env = this.env(flags)
    await mutateKeepingLog(env.state, (w) => viaMdevctl(pickHost(w, env.host), 'stop', args.uuid, env.uid))
  }
}
