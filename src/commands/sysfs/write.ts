import {Args, Flags} from '@oclif/core'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {mutate} from '../../state/store.js'
import {hostVfs} from '../../sysfs/host.js'
import {echo} from '../../sysfs/shell.js'

export default class SysfsWrite extends AplabCommand {
  static override summary = 'Write to a sysfs attribute of the emulated host, like echo VALUE > PATH'
  static override description = 'VALUE is written with a trailing newline, as echo does; -n leaves it out. A write the kernel refuses changes nothing.'
  static override examples = ['<%= config.bin %> sysfs write /sys/bus/ap/apmask -5,-6', '<%= config.bin %> sysfs write /sys/bus/ap/aqmask -- -4,-0x47,-0xab,-0xff']
  static override args = {
    path: Args.string({description: 'attribute to write', required: true}),
    value: Args.string({description: 'text to write', required: true}),
  }
  static override flags = {n: Flags.boolean({char: 'n', description: 'do not append a newline'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(SysfsWrite)
    const env = this.env(flags)
    const text = flags.n ? args.value : args.value + '\n'
    // Every store function validates before it changes anything, so a refused
    // write leaves the state as it was and nothing is written back.
    const r = await mutate(env.state, (w) => echo(hostVfs(pickHost(w, env.host), env.uid), args.path, text))
    process.stderr.write(r.stderr)
    process.exitCode = r.code
  }
}
