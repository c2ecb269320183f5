import {RawCommand} from '../cli/base.js'

import {processEnv} from '../cli/env.js'

export default class Virsh extends RawCommand {
  static override summary = "libvirt 11's virsh on the host: domains with a vfio-ap hostdev, hot plug, migration, node devices"
  static override examples = ['<%= config.bin %> virsh list --all', '<%= config.bin %> virsh nodedev-list --cap ap_matrix', '<%= config.bin %> virsh attach-device web1 hostdev.xml --live']
  static override description = 'All arguments go to virsh unchanged; see virsh(1) or run `aplab virsh --help`.'
  static override strict = false
  static override usage = 'virsh [OPTIONS] COMMAND [ARGUMENTS]'

  public async run(): Promise<void> {
    const {virshTool} = await import('../libvirt/run.js')
    process.exitCode = await virshTool(this.argv, processEnv())
  }
}
