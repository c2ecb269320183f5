import {RawCommand} from '../cli/base.js'

import {runDropIn} from '../cli/dropin.js'
import {processEnv} from '../cli/env.js'

export default class Lszcrypt extends RawCommand {
  static override summary = 'Display zcrypt devices and configuration, exactly like s390-tools lszcrypt'
  static override examples = ['<%= config.bin %> lszcrypt -V', '<%= config.bin %> lszcrypt -d', '<%= config.bin %> lszcrypt -b']
  static override description = 'All arguments go to lszcrypt unchanged; see lszcrypt(8) or run `aplab lszcrypt --help`.'
  static override strict = false
  static override usage = 'lszcrypt [OPTIONS] [DEVICE_IDS]'

  public async run(): Promise<void> {
    process.exitCode = await runDropIn('lszcrypt', this.argv, processEnv())
  }
}
