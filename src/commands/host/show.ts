import {Args, Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {pickHost} from '../../cli/env.js'
import {load} from '../../state/store.js'
import {hostInfo, hostShow} from '../../views/host.js'

export default class HostShow extends AplabCommand {
  static override summary = "Show a host: its LPAR's adapters and domains, QCI, masks, default domain, modules, mdevs, guests and kernel command line"
  static override description = 'NAME defaults to --host, else the current host. IDs are written in hex as everywhere: adapters 0x05, domains 0x0004.'
  static override examples = ['<%= config.bin %> host show', '<%= config.bin %> host show lpar2 --json']
  static override args = {name: Args.string({description: 'the host (default: the current one)'})}
  static override flags = {json: Flags.boolean({description: 'print JSON'})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(HostShow)
    const env = this.env(flags)
    const world = await load(env.state)
    const host = pickHost(world, args.name ?? env.host)
    const info = hostInfo(host, host.name === world.current)
    process.stdout.write(flags.json ? JSON.stringify(info, null, 2) + '\n' : hostShow(info))
  }
}
