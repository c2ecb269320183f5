import {RawCommand} from '../cli/base.js'

import {runDropIn} from '../cli/dropin.js'
import {processEnv} from '../cli/env.js'

export default class Chzcrypt extends RawCommand {
  static override summary = 'Modify the zcrypt configuration, exactly like s390-tools chzcrypt'
  static override examples = ['<%= config.bin %> chzcrypt -e 0', '<%= config.bin %> chzcrypt -d 00.0004', '<%= config.bin %> chzcrypt --config-off 01']
  static override description = 'All arguments go to chzcrypt unchanged; see chzcrypt(8) or run `aplab chzcrypt --help`.'
  static override strict = false
  static override usage = 'chzcrypt [OPTIONS] [DEVICE_IDS]'

  public async run(): Promise<void> {
    process.exitCode = await runDropIn('chzcrypt', this.argv, processEnv())
  }
}
