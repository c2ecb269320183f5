import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {viaMdevctl} from '../../cli/mdev.js'
import {mutateKeepingLog} from '../../cli/refuse.js'

export default class MdevStart extends AplabCommand {
  static override summary = 'Start an mdev defined with mdevctl, like mdevctl start -u UUID'
  static override description =
    'The device is created and the attributes of its definition are written in order (assign_adapter, assign_domain, ...); the ap-check rules of s390-tools apply. At the first refused write the device is removed again and nothing stays.'
  static override examples = ['<%= config.bin %> mdev start 62177883-f1bb-47f0-914d-32a22e3a8804']
  static override args = {uuid: Args.string({description: 'the mdev', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(MdevStart)
    const env = this.env(flags)
    await mutateKeepingLog(env.state, (w) => viaMdevctl(pickHost(w, env.host), 'start', args.uuid, env.uid))
  }
}
