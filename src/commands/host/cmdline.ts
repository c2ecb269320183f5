import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {setCmdline} from '../../cli/host.js'
import {UsageError} from '../../core/errors.js'
import {load, mutate} from '../../state/store.js'

export default class HostCmdline extends AplabCommand {
  static override summary = 'Show or set the kernel command line the host boots with next'
  static override description =
    'The running kernel keeps the line it booted with (/proc/cmdline); a new line takes effect at the next aplab host reboot. The AP bus reads ap.apmask=, ap.aqmask=, ap.domain=, ap.poll_thread= and ap.useirq=. Only root may set it ($APLAB_UID).'
  static override examples = [
    '<%= config.bin %> host cmdline',
    '<%= config.bin %> host cmdline show --json',
    '<%= config.bin %> host cmdline set "root=/dev/dasda1 ap.apmask=0xffff ap.aqmask=0x40"',
  ]
  static override args = {
    action: Args.string({description: 'show (the default) or set', options: ['show', 'set']}),
    cmdline: Args.string({description: 'the new command line (for set)'}),
  }
  static override flags = {json: Flags.boolean({description: 'with show: print JSON, the line of the next boot and the running kernel\'s'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HostCmdline)
    const env = this.env(flags)
    if (args.action !== 'set') {
      if (args.cmdline !== undefined) throw new UsageError(`unexpected argument '${args.cmdline}' (only set takes a command line)`)
      const host = pickHost(await load(env.state), env.host)
      if (flags.json) return void process.stdout.write(JSON.stringify({host: host.name, cmdline: host.persistent.cmdline, running: host.runtime.cmdline}, null, 2) + '\n')
      return void process.stdout.write(host.persistent.cmdline + '\n')
    }
    if (flags.json) throw new UsageError('--json goes with show, not set')
    if (args.cmdline === undefined) throw new UsageError('set needs the new command line as one argument (quote it)')
    await mutate(env.state, (w) => setCmdline(pickHost(w, env.host), args.cmdline!, env.uid))
  }
}
