import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {mdevInfos} from '../../cli/mdev.js'
import {UsageError} from '../../core/errors.js'
import {attachedGuest} from '../../core/vfio.js'
import {load} from '../../state/store.js'
import {mdevShow} from '../../views/mdev.js'

export default class MdevShow extends AplabCommand {
  static override summary = 'Show an mdev: assigned matrix, guest matrix, control domains, the guest using it'
  static override examples = ['<%= config.bin %> mdev show 62177883-f1bb-47f0-914d-32a22e3a8804', '<%= config.bin %> mdev show $UUID --json']
  static override args = {uuid: Args.string({description: 'the mdev', required: true})}
  static override flags = {json: Flags.boolean({description: 'print JSON (IDs in hex: adapters 0x05, domains 0x0004)'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(MdevShow)
    const env = this.env(flags)
    const host = pickHost(await load(env.state), env.host)
    const info = mdevInfos(host).find((r) => r.uuid === args.uuid.toLowerCase())
    if (!info) throw new UsageError(`no mdev ${args.uuid} on host ${host.name}`)
    const guest = attachedGuest(host, info.uuid)?.name ?? null
    if (flags.json) {
      const {mdevJson} = await import('../../views/json.js')
      return void process.stdout.write(JSON.stringify({...mdevJson(info), guest}, null, 2) + '\n')
    }
    process.stdout.write(mdevShow(info, guest))
  }
}
