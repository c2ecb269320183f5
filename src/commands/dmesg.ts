import {Flags} from '@oclif/core'

import {AplabCommand} from '../cli/base.js'
import {pickHost} from '../cli/env.js'
import {load, mutate} from '../state/store.js'
import {dmesgText} from '../views/dmesg.js'

export default class Dmesg extends AplabCommand {
  static override summary = "Print the emulated host's kernel messages, like dmesg"
  static override description = 'Timestamps are seconds since the host booted. The ring buffer keeps the last 2000 lines.'
  static override flags = {clear: Flags.boolean({char: 'C', description: 'clear the ring buffer'})}

  public async run(): Promise<void> {
    const {flags} = await this.parse(Dmesg)
    const env = this.env(flags)
    if (flags.clear) return void (await mutate(env.state, (w) => void (pickHost(w, env.host).runtime.dmesg = [])))
    process.stdout.write(dmesgText(pickHost(await load(env.state), env.host).runtime.dmesg))
  }
}
