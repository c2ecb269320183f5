import {RawCommand} from '../cli/base.js'

import {processEnv} from '../cli/env.js'
import {runMdevctlTool} from '../cli/mdevctl.js'

export default class Mdevctl extends RawCommand {
  static override summary = 'Manage mediated devices (vfio_ap), exactly like mdevctl 1.4.0'
  static override examples = ['<%= config.bin %> mdevctl list --defined', '<%= config.bin %> mdevctl define -u $UUID -p matrix -t vfio_ap-passthrough', '<%= config.bin %> mdevctl modify -u $UUID --addattr assign_adapter --value 5']
  static override description = 'All arguments go to mdevctl unchanged; see mdevctl(8) or run `aplab mdevctl --help`.'
  static override strict = false
  static override usage = 'mdevctl <COMMAND> [OPTIONS]'

  public async run(): Promise<void> {
    process.exitCode = await runMdevctlTool('mdevctl', this.argv, processEnv())
  }
}
