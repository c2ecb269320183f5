import {RawCommand} from '../cli/base.js'

import {processEnv} from '../cli/env.js'
import {runZdevTool} from '../cli/zdev.js'

export default class Lszdev extends RawCommand {
  static override summary = 'Display the AP masks (device type ap), exactly like s390-tools lszdev'
  static override examples = ['<%= config.bin %> lszdev -t ap', '<%= config.bin %> lszdev -t ap --info']
  static override description = 'All arguments go to lszdev unchanged; see lszdev(8) or run `aplab lszdev --help`.'
  static override strict = false
  static override usage = 'lszdev [OPTIONS] --type ap ...'

  public async run(): Promise<void> {
    process.exitCode = await runZdevTool('lszdev', this.argv, processEnv())
  }
}
