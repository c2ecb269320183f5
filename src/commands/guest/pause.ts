import {Args} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pause} from '../../cli/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestPause extends AplabCommand {
  static override summary = "Pause a guest (QEMU's stop): its CPUs stop, its kernel and devices stay"
  static override description =
    'A paused guest keeps its vfio-ap device and APCB, and its kernel, which runs nothing: aplab guest exec is refused until aplab guest resume. Pausing a paused guest changes nothing. See aplab-guest(1).'
  static override examples = ['<%= config.bin %> guest pause guest1']
  static override args = {name: Args.string({description: 'the guest', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(GuestPause)
    await this.tool(() => mutate(this.env(flags).state, (w) => pause(w, args.name)))
  }
}
