import {RawCommand} from '../cli/base.js'

import {processEnv} from '../cli/env.js'
import {runHostTool} from '../cli/hosttools.js'

export default class Lsmod extends RawCommand {
  static override summary = "Show the loaded kernel modules of the emulated host, exactly like kmod's lsmod"
  static override examples = ['<%= config.bin %> lsmod']
  static override description = 'All arguments go to lsmod unchanged (the same code as the lsmod drop-in); see aplab-shell(1) or run `aplab lsmod --help`.'
  static override strict = false
  static override usage = 'lsmod'

  public async run(): Promise<void> {
    process.exitCode = await runHostTool('lsmod', this.argv, processEnv())
  }
}
