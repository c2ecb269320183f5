import {RawCommand} from '../../cli/base.js'

import {errorMessage, pickHost, processEnv} from '../../cli/env.js'
import {start} from '../../cli/guest.js'
import {ToolExit, UsageError} from '../../core/errors.js'
import {findGuest} from '../../core/guest.js'
import {mutate} from '../../state/store.js'

export default class GuestStart extends RawCommand {
  static override summary = "Start a guest with QEMU's arguments: -cpu MODEL,ap=on,... -device vfio-ap,sysfsdev=PATH,id=ID"
  static override description =
    "Options of aplab come first (--libvirt, --autostart, --state FILE, --host NAME), then the guest's name, then the arguments of qemu-system-s390x (after an optional --). -cpu, -device vfio-ap and -name are read; other QEMU options are taken and ignored. Without QEMU arguments a stopped guest starts again with its last ones; a new guest starts with none (no AP), which is said on standard error. QEMU runs as $APLAB_UID: only root may open a vfio-ap device's /dev/vfio/N (libvirt hands it to the QEMU it runs). See aplab-guest(1)."
  static override examples = [
    '<%= config.bin %> guest start guest1 -- -cpu host,ap=on,apqci=on,apft=on,apqi=on -device vfio-ap,sysfsdev=/sys/bus/mdev/devices/$UUID,id=vfio0',
    '<%= config.bin %> guest start --libvirt web1 -- -cpu z13,ap=on,apqci=on,apft=on,apqi=on',
  ]
  static override strict = false
  static override usage = 'guest start [--libvirt] [--autostart] NAME [--] [QEMU ARGS...]'

  public async run(): Promise<void> {
    const argv = [...this.argv]
    const o = {libvirt: false, autostart: false}
    let state: string | undefined
    let host: string | undefined
    try {
      while (argv.length && argv[0].startsWith('--')) {
        const a = argv.shift()!
        const m = /^--(state|host)(?:=(.*))?$/.exec(a)
        if (a === '--libvirt') o.libvirt = true
        else if (a === '--autostart') o.autostart = true
        else if (m) {
          const v = m[2] ?? argv.shift()
          if (v === undefined) throw new UsageError(`--${m[1]} needs a value`)
          if (m[1] === 'state') state = v
          else host = v
        } else throw new UsageError(`unknown option ${a} (aplab's options come before the guest's name)`)
      }
      const name = argv.shift()
      if (!name) throw new UsageError('guest start needs the name of the guest')
      if (argv[0] === '--') argv.shift()
      const env = processEnv(state, host)
      process.stderr.write(
        await mutate(env.state, (w) => {
          // A new guest without QEMU arguments is legal QEMU, but surely not what was meant: say so.
          const empty = argv.length === 0 && !findGuest(w, name)
          const said = start(w, pickHost(w, env.host), name, argv, {...o, uid: env.uid})
          return said + (empty ? `aplab: note: guest ${name} started without QEMU arguments: it has no AP (give -cpu MODEL,ap=on,... and -device vfio-ap,sysfsdev=PATH after --)\n` : '')
        }),
      )
    } catch (e) {
      if (e instanceof ToolExit) process.stderr.write(e.message)
      else process.stderr.write(`aplab: ${errorMessage(e).message}\n`)
      process.exitCode = e instanceof ToolExit ? e.exitCode : errorMessage(e).exitCode
    }
  }
}
