import {Args} from '@oclif/core'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {load} from '../../state/store.js'
import {hostVfs} from '../../sysfs/host.js'
import {ls} from '../../sysfs/shell.js'

export default class SysfsLs extends AplabCommand {
  static override summary = 'List directories of the emulated /sys, like ls'
  static override examples = ['<%= config.bin %> sysfs ls /sys/bus/ap/devices', '<%= config.bin %> sysfs ls /sys/devices/ap/card00']
  static override strict = false
  static override args = {path: Args.string({description: 'directory or file to list', required: true})}

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(SysfsLs)
    const env = this.env(flags)
    const r = ls(hostVfs(pickHost(await load(env.state), env.host), env.uid), argv as string[])
    process.stdout.write(r.stdout)
    process.stderr.write(r.stderr)
    process.exitCode = r.code
  }
}
