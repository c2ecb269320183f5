import {RawCommand} from '../cli/base.js'

import {processEnv} from '../cli/env.js'
import {runZdevTool} from '../cli/zdev.js'

export default class Chzdev extends RawCommand {
  static override summary = 'Configure the AP masks (device type ap), exactly like s390-tools chzdev'
  static override examples = ['<%= config.bin %> chzdev -t ap apmask=-5,-6 aqmask=-4', '<%= config.bin %> chzdev -t ap -p apmask=-5,-6']
  static override description = 'All arguments go to chzdev unchanged; see chzdev(8) or run `aplab chzdev --help`.'
  static override strict = false
  static override usage = 'chzdev [OPTIONS] --type ap ...'

  public async run(): Promise<void> {
    process.exitCode = await runZdevTool('chzdev', this.argv, processEnv())
  }
}
