// The kernel ring buffer of a host: records with their syslog level and
// facility, as the kernel keeps them (printk_info's level and facility).

import {now} from './clock.js'
import type {LogLine, Runtime} from './model.js'

/** The ring buffer keeps this many lines, dropping the oldest. */
export const DMESG_LINES = 2000

/** printk's levels (include/linux/kern_levels.h), syslog's LOG_EMERG .. LOG_DEBUG. */
export const KERN_EMERG = 0
export const KERN_ALERT = 1
export const KERN_CRIT = 2
export const KERN_ERR = 3
export const KERN_WARNING = 4
export const KERN_NOTICE = 5
export const KERN_INFO = 6
export const KERN_DEBUG = 7

/** syslog's facility numbers (LOG_FAC): the kernel logs as kern; systemd writes to /dev/kmsg as daemon. */
export const LOG_KERN = 0
export const LOG_DAEMON = 3
/** The facilities a record may carry: syslog's 24 (LOG_NFACILITIES), kern to local7. */
export const LOG_NFACILITIES = 24

/**
 * Log a record at `level` (pr_info, dev_warn, ... give theirs). The kernel's
 * own messages are facility kern; a process writing to /dev/kmsg gives its own.
 */
export function klog(rt: Runtime, level: number, msg: string, facility = LOG_KERN): void {
  rt.dmesg.push({t: Math.max(0, (now() - rt.bootTime) * 1000), level, facility, msg})
  if (rt.dmesg.length > DMESG_LINES) rt.dmesg.splice(0, rt.dmesg.length - DMESG_LINES)
}

/**
 * The texts aplab logs and the printk (or syslog priority) each comes from:
 * drivers/s390/cio/blacklist.c and ap_bus.c pr_warn, the mdev core's
 * dev_info, vfio_ap_ops.c's dev_warn and dev_notice_ratelimited, and
 * systemd's module_load_and_warn (LOG_NOTICE for ENODEV, facility daemon).
 */
const ORIGINS: Array<[RegExp, number, number]> = [
  [/^cio: .* is not a valid (device for the cio_ignore kernel parameter|range for cio_ignore)$/s, KERN_WARNING, LOG_KERN],
  [/^ap: -?\d+ is not a valid cryptographic domain$/, KERN_WARNING, LOG_KERN],
  [/^ap: The hardware system does not support AP instructions$/, KERN_WARNING, LOG_KERN],
  [/^vfio_ap matrix: MDEV: (Registered|Unregistering)$/, KERN_INFO, LOG_KERN],
  [/^vfio_ap_mdev \S+: Relaying device request to user \(#\d+\)$/, KERN_NOTICE, LOG_KERN],
  [/^vfio_ap_mdev \S+: (Userspace may not assign queue|Can not reserve queue) /, KERN_WARNING, LOG_KERN],
  [/^systemd-modules-load\[\d+\]: Failed to insert module '.*': No such device$/s, KERN_NOTICE, LOG_DAEMON],
]

/**
 * The level and facility of a record stored without them (states written
 * before aplab kept levels): those of the printk that logs its text. A text
 * aplab never logs was written by hand; it reads as kern.info, the level of
 * most kernel messages.
 */
export function originOf(msg: string): Pick<LogLine, 'level' | 'facility'> {
  for (const [re, level, facility] of ORIGINS) if (re.test(msg)) return {level, facility}
  return {level: KERN_INFO, facility: LOG_KERN}
}

const sameRecord = (a: LogLine, b: LogLine): boolean => a.t === b.t && a.level === b.level && a.facility === b.facility && a.msg === b.msg

/**
 * The records of `next` logged after those of `prev`, the same boot's ring
 * buffer read earlier: the buffer only drops its oldest records (when full,
 * or all of them by a clear) and appends, so `next` is the longest tail of
 * `prev` it starts with, then the new records. The kernel numbers its
 * records; the state does not, so a record identical to the last one seen
 * (same microsecond, level and text) logged right after a clear is taken
 * for it.
 */
export function newRecords(prev: readonly LogLine[], next: readonly LogLine[]): LogLine[] {
  for (let d = 0; d < prev.length; d++) {
    const n = prev.length - d
    if (n > next.length || !sameRecord(prev[d], next[0])) continue
    let k = 1
    while (k < n && sameRecord(prev[d + k], next[k])) k++
    if (k === n) return next.slice(n)
  }
  return next.slice()
}
