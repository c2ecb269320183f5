import {AplabCommand} from '../cli/base.js'
import {pickHost} from '../cli/env.js'
import {load} from '../state/store.js'

export default class Shellenv extends AplabCommand {
  static override summary = 'Print sh code that puts the drop-ins first on PATH and exports APLAB_STATE: eval "$(aplab shellenv)"'
  static override description =
    "For shells where namespaces are not available (aplab shell needs them): the drop-ins (lszcrypt, chzcrypt, chzdev, lszdev, mdevctl, lsmdev, virsh, modprobe, lsmod, dmesg, qemu-system-s390x) then act on the state, but /sys stays the machine's own. See aplab-shell(1)."
  static override examples = ['eval "$(<%= config.bin %> shellenv)"', 'eval "$(<%= config.bin %> --state lab.yaml shellenv --host lpar2)"']

  public async run(): Promise<void> {
    const {flags} = await this.parse(Shellenv)
    const env = this.env(flags)
    if (env.host) pickHost(await load(env.state), env.host)
    const {shellenvText} = await import('../live/shell.js')
    process.stdout.write(shellenvText(env.state, env.host))
  }
}
