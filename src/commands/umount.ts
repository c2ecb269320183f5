import {Args} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'

export default class Umount extends AplabCommand {
  static override summary = 'Unmount an aplab mount: stop the aplab mount serving DIR, or remove a stale mount left by a killed one'
  static override description = 'Waits until the mount is gone. DIR must be an aplab mount. See aplab-mount(1).'
  static override examples = ['<%= config.bin %> umount /tmp/host']
  static override args = {dir: Args.string({description: 'the mount point', required: true})}

  public async run(): Promise<void> {
    const {args} = await this.parse(Umount)
    const {unmountDir} = await import('../live/serve.js')
    await unmountDir(args.dir)
  }
}
