import {Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {create} from '../../cli/mdev.js'
import {mutateKeepingLog} from '../../cli/refuse.js'

export default class MdevCreate extends AplabCommand {
  static override summary = 'Create a vfio_ap mediated device and print its UUID'
  static override description = 'The same as writing the UUID to /sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create. The device is not persistent: define it with mdevctl to keep it across reboots. The file is root\'s: another $APLAB_UID is refused.'
  static override examples = ['<%= config.bin %> mdev create', '<%= config.bin %> mdev create --uuid 62177883-f1bb-47f0-914d-32a22e3a8804']
  static override flags = {uuid: Flags.string({char: 'u', description: 'UUID of the new device (default: a random one)'})}

  public async run(): Promise<void> {
    const {flags} = await this.parse(MdevCreate)
    const env = this.env(flags)
    const uuid = await mutateKeepingLog(env.state, (w) => create(pickHost(w, env.host), flags.uuid, env.uid))
    process.stdout.write(uuid + '\n')
  }
}
