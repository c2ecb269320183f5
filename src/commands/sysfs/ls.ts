import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {runSysfs} from '../../cli/sysfs.js'

export default class SysfsLs extends AplabCommand {
  static override summary = 'List directories of the emulated /sys, like ls'
  static override description = 'With -l, one line per entry as ls -l prints it on a real host: sysfs attributes are 4096 bytes, directories 0, links show their target; every entry has the time the host booted.'
  static override examples = [
    '<%= config.bin %> sysfs ls /sys/bus/ap/devices',
    '<%= config.bin %> sysfs ls /sys/devices/ap/card00',
    '<%= config.bin %> sysfs ls -l /sys/bus/ap/devices/05.0004/',
  ]
  static override strict = false
  static override args = {path: Args.string({description: 'directory or file to list', required: true})}
  static override flags = {long: Flags.boolean({char: 'l', description: 'use a long listing format (mode, links, owner, group, size, time, name)'})}

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(SysfsLs)
    process.exitCode = await runSysfs('ls', argv as string[], this.env(flags), {long: flags.long})
  }
}
