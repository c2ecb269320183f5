import {RawCommand} from '../cli/base.js'

import {processEnv} from '../cli/env.js'
import {runMdevctlTool} from '../cli/mdevctl.js'

export default class Lsmdev extends RawCommand {
  static override summary = 'List mediated devices, exactly like mdevctl 1.4.0\'s lsmdev'
  static override examples = ['<%= config.bin %> lsmdev', '<%= config.bin %> lsmdev --dumpjson']
  static override description = 'All arguments go to lsmdev unchanged; see mdevctl(8) or run `aplab lsmdev --help`.'
  static override strict = false
  static override usage = 'lsmdev [OPTIONS]'

  public async run(): Promise<void> {
    process.exitCode = await runMdevctlTool('lsmdev', this.argv, processEnv())
  }
}
