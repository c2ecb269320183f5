import {Args, Flags} from '@oclif/core'

import {AplabCommand} from '../cli/base.js'
import {pickHost} from '../cli/env.js'
import {ToolExit} from '../core/errors.js'
import {modprobe} from '../core/modules.js'
import {mutate} from '../state/store.js'

export default class Modprobe extends AplabCommand {
  static override summary = 'Load or unload a kernel module on the emulated host, like modprobe'
  static override description =
    'vfio_ap is the module that matters: loading it registers the matrix device and binds the queues apmask and aqmask free; unloading it removes every mdev. Errors are modprobe\'s own; loading and unloading need root (CAP_SYS_MODULE), so another $APLAB_UID gets kmod\'s "Operation not permitted".'
  static override examples = ['<%= config.bin %> modprobe vfio_ap', '<%= config.bin %> modprobe -r vfio_ap']
  static override args = {module: Args.string({description: 'module name', required: true})}
  static override flags = {remove: Flags.boolean({char: 'r', description: 'unload the module'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(Modprobe)
    const env = this.env(flags)
    try {
      await mutate(env.state, (w) => modprobe(pickHost(w, env.host), args.module, flags.remove, env.uid))
    } catch (e) {
      if (!(e instanceof ToolExit)) throw e
      process.stderr.write(e.message)
      process.exitCode = e.exitCode
    }
  }
}
