import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {runSysfs} from '../../cli/sysfs.js'

export default class SysfsWrite extends AplabCommand {
  static override summary = 'Write to a sysfs attribute of the emulated host, like echo VALUE > PATH'
  static override description = 'VALUE is written with a trailing newline, as echo does; -n leaves it out. A write the kernel refuses changes nothing but the kernel log (aplab dmesg). Only root may write ($APLAB_UID).'
  static override examples = ['<%= config.bin %> sysfs write /sys/bus/ap/apmask -5,-6', '<%= config.bin %> sysfs write /sys/bus/ap/aqmask -- -4,-0x47,-0xab,-0xff']
  static override args = {
    path: Args.string({description: 'attribute to write', required: true}),
    value: Args.string({description: 'text to write', required: true}),
  }
  static override flags = {'no-newline': Flags.boolean({char: 'n', description: 'do not append a newline (like echo -n)'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(SysfsWrite)
    process.exitCode = await runSysfs('write', [args.path, args.value], this.env(flags), {noNewline: flags['no-newline']})
  }
}
