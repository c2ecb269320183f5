import {Flags} from '@oclif/core'

import {AplabCommand} from '../cli/base.js'
import {pickHost} from '../cli/env.js'
import {capable} from '../core/perm.js'
import {load, mutate} from '../state/store.js'
import {dmesgText} from '../views/dmesg.js'

export default class Dmesg extends AplabCommand {
  static override summary = "Print the emulated host's kernel messages, like dmesg"
  static override description =
    "Timestamps are seconds since the host booted. The ring buffer keeps the last 2000 lines. Every user may read it; clearing it needs root (CAP_SYSLOG), as util-linux's dmesg -C says: dmesg: klogctl failed: Operation not permitted."
  static override examples = ['<%= config.bin %> dmesg', '<%= config.bin %> dmesg --json', '<%= config.bin %> dmesg -C']
  static override flags = {
    clear: Flags.boolean({char: 'C', description: 'clear the ring buffer'}),
    json: Flags.boolean({char: 'J', description: "print JSON, as util-linux's dmesg --json: {\"dmesg\": [{\"time\": SECONDS, \"msg\": TEXT}]}", exclusive: ['clear']}),
  }

  public async run(): Promise<void> {
    const {flags} = await this.parse(Dmesg)
    const env = this.env(flags)
    if (flags.clear) {
      // util-linux: klogctl(SYSLOG_ACTION_CLEAR) fails with EPERM, err(EXIT_FAILURE, "klogctl failed").
      if (!capable(env.uid, 'CAP_SYSLOG')) {
        process.stderr.write('dmesg: klogctl failed: Operation not permitted\n')
        return void (process.exitCode = 1)
      }
      return void (await mutate(env.state, (w) => void (pickHost(w, env.host).runtime.dmesg = [])))
    }
    const lines = pickHost(await load(env.state), env.host).runtime.dmesg
    if (flags.json) return void process.stdout.write((await import('../views/json.js')).dmesgJson(lines))
    process.stdout.write(dmesgText(lines))
  }
}
