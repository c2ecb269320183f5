import {Args} from '@oclif/core'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {mdevInfos} from '../../cli/mdev.js'
import {UsageError} from '../../core/errors.js'
import {attachedGuest} from '../../core/vfio.js'
import {load} from '../../state/store.js'
import {mdevShow} from '../../views/mdev.js'

export default class MdevShow extends AplabCommand {
  static override summary = 'Show an mdev: assigned matrix, guest matrix, control domains, the guest using it'
  static override args = {uuid: Args.string({description: 'the mdev', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(MdevShow)
    const env = this.env(flags)
    const host = pickHost(await load(env.state), env.host)
    const info = mdevInfos(host).find((r) => r.uuid === args.uuid.toLowerCase())
    if (!info) throw new UsageError(`no mdev ${args.uuid} on host ${host.name}`)
    process.stdout.write(mdevShow(info, attachedGuest(host, info.uuid)?.name ?? null))
  }
}
