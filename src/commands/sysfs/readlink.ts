import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {runSysfs} from '../../cli/sysfs.js'

export default class SysfsReadlink extends AplabCommand {
  static override summary = 'Print where links of the emulated /sys point, like readlink'
  static override description =
    'Without options, the target of each symbolic link as stored (relative, as sysfs keeps it); nothing, and exit status 1, for a name that is not a link. With -f or -e, the canonical path with every link resolved.'
  static override examples = [
    '<%= config.bin %> sysfs readlink /sys/bus/ap/devices/05.0004/driver',
    '<%= config.bin %> sysfs readlink -f /sys/bus/mdev/devices/$U',
  ]
  static override strict = false
  static override args = {path: Args.string({description: 'link to read', required: true})}
  static override flags = {
    canonicalize: Flags.boolean({char: 'f', description: 'canonicalize: follow every link; all but the last component must exist'}),
    'canonicalize-existing': Flags.boolean({char: 'e', description: 'canonicalize: follow every link; every component must exist'}),
    'no-newline': Flags.boolean({char: 'n', description: 'do not output the trailing newline'}),
    verbose: Flags.boolean({char: 'v', description: 'report error messages'}),
  }

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(SysfsReadlink)
    const canonicalize = flags['canonicalize-existing'] ? 'e' : flags.canonicalize ? 'f' : undefined
    process.exitCode = await runSysfs('readlink', argv as string[], this.env(flags), {canonicalize, noNewline: flags['no-newline'], verbose: flags.verbose})
  }
}
