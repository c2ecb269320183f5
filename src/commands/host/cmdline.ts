import {Args} from '@oclif/core'

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
    '<%= config.bin %> host cmdline set "root=/dev/dasda1 ap.apmask=0xffff ap.aqmask=0x40"',
  ]
  static override args = {
    action: Args.string({description: 'show (the default) or set', options: ['show', 'set']}),
    cmdline: Args.string({description: 'the new command line (for set)'}),
  }

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HostCmdline)
    const env = this.env(flags)
    if (args.action !== 'set') {
      if (args.cmdline !== undefined) throw new UsageError(`unexpected argument '${args.cmdline}' (only set takes a command line)`)
      return void process.stdout.write(pickHost(await load(env.state), env.host).persistent.cmdline + '\n')
    }
    if (args.cmdline === undefined) throw new UsageError('set needs the new command line as one argument (quote it)')
    await mutate(env.state, (w) => setCmdline(pickHost(w, env.host), args.cmdline!, env.uid))
  }
}
