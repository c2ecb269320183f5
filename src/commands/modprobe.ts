import {RawCommand} from '../cli/base.js'

import {processEnv} from '../cli/env.js'
import {runHostTool} from '../cli/hosttools.js'

export default class Modprobe extends RawCommand {
  static override summary = "Load or unload a kernel module on the emulated host, exactly like kmod's modprobe"
  static override examples = ['<%= config.bin %> modprobe vfio_ap', '<%= config.bin %> modprobe -r vfio_ap']
  static override description = 'All arguments go to modprobe unchanged (the same code as the modprobe drop-in); see aplab-shell(1) or run `aplab modprobe --help`.'
  static override strict = false
  static override usage = 'modprobe [-r] [OPTIONS] MODULE'

  public async run(): Promise<void> {
    process.exitCode = await runHostTool('modprobe', this.argv, processEnv())
  }
}
