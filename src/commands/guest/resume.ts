import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {resume} from '../../cli/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestResume extends AplabCommand {
  static override summary = "Resume a paused guest (QEMU's cont): its CPUs run; one started with -S boots its kernel now"
  static override description =
    'A guest paused by aplab guest pause (or the monitor\'s stop) goes on with the kernel it had; a guest started with -S (prelaunch) boots its kernel, which finds the APCB its vfio-ap device has now. Resuming a running guest changes nothing. See aplab-guest(1).'
  static override examples = ['<%= config.bin %> guest resume guest1']
  static override args = {name: Args.string({description: 'the guest', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestResume)
    await this.tool(() => mutate(this.env(flags).state, (w) => resume(w, args.name)))
  }
}
