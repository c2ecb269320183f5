import {RawCommand} from '../../cli/base.js'

import {errorMessage, processEnv} from '../../cli/env.js'
import {execIn, execMutates, executing} from '../../cli/guest.js'
import {UsageError} from '../../core/errors.js'
import {load, mutate} from '../../state/store.js'

export default class GuestExec extends RawCommand {
  static override summary = 'Run lszcrypt, chzcrypt, cat, ls, dmesg or aplab sysfs inside a running guest'
  static override description = "The command sees the guest's own /sys: its AP bus, with exactly the queues of its APCB. aplab's options (--state, --host) come before the guest's name."
  static override examples = ['<%= config.bin %> guest exec guest1 -- lszcrypt -V', '<%= config.bin %> guest exec guest1 -- aplab sysfs cat /sys/bus/ap/ap_adapter_mask']
  static override strict = false
  static override usage = 'guest exec NAME -- COMMAND [ARGS...]'

  public async run(): Promise<void> {
    const argv = [...this.argv]
    let state: string | undefined
    try {
      while (argv[0]?.startsWith('--state') || argv[0]?.startsWith('--host')) {
        const a = argv.shift()!
        const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv.shift()
        if (a.startsWith('--state')) state = v
      }
      const name = argv.shift()
      if (argv[0] === '--') argv.shift()
      if (!name || argv.length === 0) throw new UsageError('guest exec needs the guest and a command: aplab guest exec NAME -- lszcrypt')
      const env = processEnv(state)
      const run = async (w: Parameters<typeof executing>[0]) => {
        const {host, guest} = executing(w, name)
        return execIn(host, guest, argv, env.uid)
      }
      const r = execMutates(argv) ? await mutate(env.state, run) : await run(await load(env.state))
      process.stdout.write(r.stdout)
      process.stderr.write(r.stderr)
      process.exitCode = r.code
    } catch (e) {
      const {message, exitCode} = errorMessage(e)
      process.stderr.write(`aplab: ${message}\n`)
      process.exitCode = exitCode
    }
  }
}
