import {Args} from '@oclif/core'

import {AplabCommand} from '../../cli/base.js'
import {runSysfs} from '../../cli/sysfs.js'

export default class SysfsLs extends AplabCommand {
  static override summary = 'List directories of the emulated /sys, like ls'
  static override examples = ['<%= config.bin %> sysfs ls /sys/bus/ap/devices', '<%= config.bin %> sysfs ls /sys/devices/ap/card00']
  static override strict = false
  static override args = {path: Args.string({description: 'directory or file to list', required: true})}

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(SysfsLs)
    process.exitCode = await runSysfs('ls', argv as string[], this.env(flags))
  }
}
