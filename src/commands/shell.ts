import {RawCommand} from '../cli/base.js'

import {errorMessage, pickHost, processEnv} from '../cli/env.js'
import {UsageError} from '../core/errors.js'
import {load} from '../state/store.js'

export default class Shell extends RawCommand {
  static override summary = "Run a command (default: $SHELL) with the live host as the machine's /sys, /proc files and /etc/mdevctl.d, /etc/udev/rules.d"
  static override description =
    "The command runs in a private mount namespace (util-linux unshare; a user namespace too when the caller is not root) where the host's live file system (aplab mount) is laid over /sys, /proc/cmdline, /proc/cio_ignore, /proc/modules, /etc/mdevctl.d and /etc/udev/rules.d, and the drop-ins (lszcrypt, chzcrypt, chzdev, lszdev, mdevctl, lsmdev, virsh, modprobe, lsmod, dmesg, qemu-system-s390x) come first on PATH: a script written for a real host runs unchanged. The real machine's /sys and /etc are never touched. The exit status is the command's. See aplab-shell(1)."
  static override examples = ['<%= config.bin %> shell -- ./provision.sh', '<%= config.bin %> shell --host lpar2', "<%= config.bin %> shell -- sh -c 'cat /sys/bus/ap/apmask'"]
  static override strict = false
  static override usage = 'shell [--state FILE] [--host NAME] [-- COMMAND [ARGS...]]'

  public async run(): Promise<void> {
    try {
      process.exitCode = await this.shell()
    } catch (e) {
      const {message, exitCode} = errorMessage(e)
      process.stderr.write(`aplab: ${message}\n`)
      process.exitCode = exitCode
    }
  }

  private async shell(): Promise<number> {
    // Options of aplab come first; everything after them (or after --) is the command, untouched.
    const argv = [...this.argv]
    let state: string | undefined
    let host: string | undefined
    while (argv.length > 0 && argv[0].startsWith('-')) {
      const a = argv.shift()!
      if (a === '--') break
      const m = /^--(state|host)(?:=(.*))?$/.exec(a)
      if (!m) throw new UsageError(`unknown option ${a} (the command comes after --)`)
      const v = m[2] ?? argv.shift()
      if (v === undefined) throw new UsageError(`--${m[1]} needs a value`)
      if (m[1] === 'state') state = v
      else host = v
    }
    const env = processEnv(state, host)
    pickHost(await load(env.state), env.host)
    const {runShell} = await import('../live/shell.js')
    return runShell(env.state, env.host, argv)
  }
}
