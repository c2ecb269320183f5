// The kernel ring buffer of a host.

import {now} from './clock.js'
import type {Runtime} from './model.js'

/** The ring buffer keeps this many lines, dropping the oldest. */
export const DMESG_LINES = 2000

export function klog(rt: Runtime, msg: string): void {
  rt.dmesg.push({t: Math.max(0, (now() - rt.bootTime) * 1000), msg})
  if (rt.dmesg.length > DMESG_LINES) rt.dmesg.splice(0, rt.dmesg.length - DMESG_LINES)
}
