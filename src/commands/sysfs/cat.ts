import {Args} from '@oclif/core'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {load} from '../../state/store.js'
import {hostVfs} from '../../sysfs/host.js'
import {cat} from '../../sysfs/shell.js'

export default class SysfsCat extends AplabCommand {
  static override summary = 'Print sysfs attributes of the emulated host, like cat'
  static override examples = ['<%= config.bin %> sysfs cat /sys/bus/ap/apmask', '<%= config.bin %> sysfs cat /sys/devices/ap/card00/type /proc/cmdline']
  static override strict = false
  static override args = {path: Args.string({description: 'file to print', required: true})}

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(SysfsCat)
    const env = this.env(flags)
    const r = cat(hostVfs(pickHost(await load(env.state), env.host), env.uid), argv as string[])
    process.stdout.write(r.stdout)
    process.stderr.write(r.stderr)
    process.exitCode = r.code
  }
}
