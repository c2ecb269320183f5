import {RawCommand} from '../cli/base.js'

import {processEnv} from '../cli/env.js'
import {runHostTool} from '../cli/hosttools.js'

export default class Dmesg extends RawCommand {
  static override summary = "Print, follow or clear the emulated host's kernel ring buffer, exactly like util-linux's dmesg"
  static override examples = ['<%= config.bin %> dmesg', '<%= config.bin %> dmesg -T', '<%= config.bin %> dmesg --json', '<%= config.bin %> dmesg -w', '<%= config.bin %> dmesg -C']
  static override description = 'All arguments go to dmesg unchanged (the same code as the dmesg drop-in); see aplab-shell(1) or run `aplab dmesg --help`.'
  static override strict = false
  static override usage = 'dmesg [OPTIONS]'

  public async run(): Promise<void> {
    process.exitCode = await runHostTool('dmesg', this.argv, processEnv())
  }
}
