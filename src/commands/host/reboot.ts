import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {reboot} from '../../cli/host.js'
import {mutate} from '../../state/store.js'

export default class HostReboot extends AplabCommand {
  static override summary = 'Reboot the host: what is persistent comes back, the rest is gone'
  static override description =
    'The kernel boots with the configured command line; modules-load.d and the udev rules (chzdev\'s 41-ap.rules) apply; mdevctl starts the auto definitions in order with the ap-check rules, and reports the ones that fail. Mediated devices that are not defined, masks written to sysfs, offline states and the kernel log are gone. Only root may reboot ($APLAB_UID).'
  static override examples = ['<%= config.bin %> host reboot']

  public async run(): Promise<void> {
    const {flags} = await this.parse(HostReboot)
    const env = this.env(flags)
    process.stderr.write(await mutate(env.state, (w) => reboot(pickHost(w, env.host), w, env.uid)))
  }
}
