import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {runSysfs} from '../../cli/sysfs.js'

export default class SysfsCat extends AplabCommand {
  static override summary = 'Print sysfs attributes of the emulated host, like cat'
  static override examples = ['<%= config.bin %> sysfs cat /sys/bus/ap/apmask', '<%= config.bin %> sysfs cat /sys/devices/ap/card00/type /proc/cmdline']
  static override strict = false
  static override args = {path: Args.string({description: 'file to print', required: true})}

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(SysfsCat)
    process.exitCode = await runSysfs('cat', argv as string[], this.env(flags))
  }
}
