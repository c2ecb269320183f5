// `aplab host ...`: the host's boot configuration and its reboot.

import {UsageError} from '../core/errors.js'
import {boot} from '../core/host.js'
import type {Host} from '../core/model.js'

/** s390's COMMAND_LINE_SIZE, the terminating NUL included. */
const COMMAND_LINE_SIZE = 4096

export function setCmdline(host: Host, cmdline: string): void {
  if (/[\n\0]/.test(cmdline)) throw new UsageError('a kernel command line is one line of text')
  if (Buffer.byteLength(cmdline) >= COMMAND_LINE_SIZE)
    throw new UsageError(`a kernel command line has at most ${COMMAND_LINE_SIZE - 1} bytes (this one has ${Buffer.byteLength(cmdline)})`)
  host.persistent.cmdline = cmdline
}

/**
 * Reboot: the kernel starts again from the LPAR configuration and the
 * persistent files (command line, modules-load.d, udev rules), and, once
 * vfio_ap has registered its matrix device, udev's 60-mdevctl.rules runs
 * `mdevctl start-parent-mdevs matrix`, which starts the auto definitions in
 * order with the ap-check rules. Returns what that prints (the warnings of
 * definitions that failed to start), as the journal would show it.
 */
export async function reboot(host: Host): Promise<string> {
  host.runtime = boot(host.lpar, host.persistent)
  if (!host.runtime.modules.includes('vfio_ap')) return ''
  const [{runMdevctl}, {hostVfs}, {hostCallout}, {Stdio}, {randomUUID}] = await Promise.all([
    import('../tools/mdevctl.js'),
    import('../sysfs/host.js'),
    import('../tools/apcheck.js'),
    import('../tools/libc.js'),
    import('node:crypto'),
  ])
  const vfs = hostVfs(host)
  const io = new Stdio(true)
  runMdevctl(['start-parent-mdevs', 'matrix'], {fs: vfs, root: '', prog: 'mdevctl', callout: hostCallout(vfs), newUuid: () => randomUUID()}, io)
  return io.stderr
}
