import {Args} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'
import {pickHost} from '../cli/env.js'
import {load} from '../state/store.js'

export default class Mount extends AplabCommand {
  static override summary = 'Serve the host as a live file system on DIR: DIR/sys, DIR/proc and DIR/etc (FUSE)'
  static override description =
    "Every read of an attribute calls its show, every write(2) its store, on the state file as it is at that moment: a refused write fails with the kernel's errno (echo: write error: Invalid argument) and changes nothing. Runs in the foreground until SIGINT or SIGTERM, then unmounts. A stale mount left on DIR by a killed aplab mount is removed first. Needs FUSE (/dev/fuse and libfuse2). See aplab-mount(1)."
  static override examples = ['<%= config.bin %> mount /tmp/host &  cat /tmp/host/sys/bus/ap/apmask', '<%= config.bin %> mount --host lpar2 /mnt/lpar2']
  static override args = {dir: Args.string({description: 'an existing directory to mount on', required: true})}

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(Mount)
    const env = this.env(flags)
    const host = pickHost(await load(env.state), env.host).name
    const {serveUntilSignal} = await import('../live/serve.js')
    await serveUntilSignal(args.dir, env.state, env.host, () => process.stdout.write(`Host '${host}' of ${env.state} mounted on ${args.dir}\n`))
  }
}
