// util-linux's dmesg (2.38.1) on the emulated host: the host's kernel ring
// buffer in dmesg's formats, cleared by -C/-c by root only (CAP_SYSLOG);
// anyone may read it, as kernel.dmesg_restrict=0 (RHEL, SLES) allows.

import type {LogLine} from '../core/model.js'
import {type OptDef, getoptLong, getoptMessage, opt as o} from './getopt.js'
import {capable} from '../core/perm.js'
import {dmesgJson, dmesgText} from '../views/dmesg.js'

export const DMESG_VERSION = 'dmesg from util-linux 2.38.1\n'

/** `dmesg --help` of util-linux 2.38.1. */
export const DMESG_HELP = "\nUsage:\n dmesg [options]\n\nDisplay or control the kernel ring buffer.\n\nOptions:\n -C, --clear                 clear the kernel ring buffer\n -c, --read-clear            read and clear all messages\n -D, --console-off           disable printing messages to console\n -E, --console-on            enable printing messages to console\n -F, --file <file>           use the file instead of the kernel log buffer\n -f, --facility <list>       restrict output to defined facilities\n -H, --human                 human readable output\n -J, --json                  use JSON output format\n -k, --kernel                display kernel messages\n -L, --color[=<when>]        colorize messages (auto, always or never)\n                               colors are enabled by default\n -l, --level <list>          restrict output to defined levels\n -n, --console-level <level> set level of messages printed to console\n -P, --nopager               do not pipe output into a pager\n -p, --force-prefix          force timestamp output on each line of multi-line messages\n -r, --raw                   print the raw message buffer\n     --noescape              don't escape unprintable character\n -S, --syslog                force to use syslog(2) rather than /dev/kmsg\n -s, --buffer-size <size>    buffer size to query the kernel ring buffer\n -u, --userspace             display userspace messages\n -w, --follow                wait for new messages\n -W, --follow-new            wait and print only new messages\n -x, --decode                decode facility and level to readable string\n -d, --show-delta            show time delta between printed messages\n -e, --reltime               show local time and time delta in readable format\n -T, --ctime                 show human-readable timestamp (may be inaccurate!)\n -t, --notime                don't show any timestamp with messages\n     --time-format <format>  show timestamp using the given format:\n                               [delta|reltime|ctime|notime|iso]\nSuspending/resume will make ctime and iso timestamps inaccurate.\n     --since <time>          display the lines since the specified time\n     --until <time>          display the lines until the specified time\n\n -h, --help                  display this help\n -V, --version               display version\n\nSupported log facilities:\n    kern - kernel messages\n    user - random user-level messages\n    mail - mail system\n  daemon - system daemons\n    auth - security/authorization messages\n  syslog - messages generated internally by syslogd\n     lpr - line printer subsystem\n    news - network news subsystem\n\nSupported log levels (priorities):\n   emerg - system is unusable\n   alert - action must be taken immediately\n    crit - critical conditions\n     err - error conditions\n    warn - warning conditions\n  notice - normal but significant condition\n    info - informational\n   debug - debug-level messages\n\nFor more details see dmesg(1).\n"

const OPTS: OptDef[] = [
  o('C', 'C', 'clear'),
  o('c', 'c', 'read-clear'),
  o('D', 'D', 'console-off'),
  o('E', 'E', 'console-on'),
  o('F', 'F', 'file', 'required'),
  o('f', 'f', 'facility', 'required'),
  o('H', 'H', 'human'),
  o('J', 'J', 'json'),
  o('k', 'k', 'kernel'),
  o('L', 'L', 'color'),
  o('l', 'l', 'level', 'required'),
  o('n', 'n', 'console-level', 'required'),
  o('P', 'P', 'nopager'),
  o('p', 'p', 'force-prefix'),
  o('r', 'r', 'raw'),
  o('noescape', undefined, 'noescape'),
  o('S', 'S', 'syslog'),
  o('s', 's', 'buffer-size', 'required'),
  o('u', 'u', 'userspace'),
  o('w', 'w', 'follow'),
  o('W', 'W', 'follow-new'),
  o('x', 'x', 'decode'),
  o('d', 'd', 'show-delta'),
  o('e', 'e', 'reltime'),
  o('T', 'T', 'ctime'),
  o('t', 't', 'notime'),
  o('time-format', undefined, 'time-format', 'required'),
  o('since', undefined, 'since', 'required'),
  o('until', undefined, 'until', 'required'),
  o('h', 'h', 'help'),
  o('V', 'V', 'version'),
]

/** Whether a command line asks to clear the buffer (-C, -c in any form getopt takes): run it under the state lock. */
export function mayClear(argv: readonly string[]): boolean {
  for (const ev of getoptLong([...argv], OPTS).events) if (ev.kind === 'opt' && (ev.key === 'C' || ev.key === 'c')) return true
  return false
}

export interface DmesgResult {
  stdout: string
  stderr: string
  code: number
  /** Empty the ring buffer (-C, -c). */
  clear: boolean
}

const TRY = "Try 'dmesg --help' for more information.\n"
const fail = (stderr: string): DmesgResult => ({stdout: '', stderr, code: 1, clear: false})

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const p2 = (n: number): string => String(n).padStart(2, '0')

/** asctime(3) of a local time, as -T prints it: `Sun Dec  6 22:56:41 2026`. */
function ctime(d: Date): string {
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`
}

/** ISO 8601 with microseconds after a comma and the local offset: `2026-12-06T22:56:41,000000+00:00`. */
function iso(d: Date, us: number): string {
  const off = -d.getTimezoneOffset()
  const sign = off < 0 ? '-' : '+'
  const a = Math.abs(off)
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())},${String(us).padStart(6, '0')}${sign}${p2(Math.floor(a / 60))}:${p2(a % 60)}`
}

/**
 * dmesg on the host's ring buffer: `[seconds.micros] text` by default,
 * -t/--notime, -T/--ctime and --time-format ctime|notime|iso; -C clears,
 * -c prints then clears, -J prints JSON. Without CAP_SYSLOG (any user but
 * root) clearing fails with EPERM; reading is everyone's (dmesg_restrict=0).
 */
export function runDmesg(argv: string[], log: LogLine[], bootTime: number, uid: number): DmesgResult {
  let format: 'default' | 'notime' | 'ctime' | 'iso' = 'default'
  let clear = false
  let read = true
  let json = false
  const g = getoptLong(argv, OPTS)
  for (const ev of g.events) {
    if (ev.kind !== 'opt') return fail(getoptMessage('dmesg', ev, OPTS) + TRY)
    switch (ev.key) {
      case 'h':
        return {stdout: DMESG_HELP, stderr: '', code: 0, clear: false}
      case 'V':
        return {stdout: DMESG_VERSION, stderr: '', code: 0, clear: false}
      case 'C':
        clear = true
        read = false
        break
      case 'c':
        clear = true
        break
      case 't':
        format = 'notime'
        break
      case 'T':
        format = 'ctime'
        break
      case 'time-format':
        if (ev.arg === 'ctime' || ev.arg === 'notime' || ev.arg === 'iso') format = ev.arg
        else if (ev.arg === 'delta' || ev.arg === 'reltime') return fail(`dmesg: the emulated host's dmesg does not implement --time-format ${ev.arg}\n`)
        else return fail(`dmesg: unknown time format: ${ev.arg}\n`)
        break
      case 'J':
        json = true
        break
      case 'k':
      case 'P':
      case 'L':
      case 'noescape':
      case 'p':
        break
      default:
        return fail(`dmesg: the emulated host's dmesg does not implement --${OPTS.find((d) => d.key === ev.key)?.long}\n`)
    }
  }
  if (g.operands.length > 0) return fail(`dmesg: bad usage\n${TRY}`)
  // kernel.dmesg_restrict=0 (RHEL's and SLES's default): everyone may read; clearing needs CAP_SYSLOG.
  if (clear && !capable(uid, 'CAP_SYSLOG')) return fail(`dmesg: ${read ? 'read' : 'clear'} kernel buffer failed: Operation not permitted\n`)
  if (!read) return {stdout: '', stderr: '', code: 0, clear}
  let stdout: string
  if (json) stdout = dmesgJson(log)
  else if (format === 'default') stdout = dmesgText(log)
  else
    stdout = log
      .map((l) => {
        // Boot time plus the record's microseconds since boot, on the wall clock.
        const at = Math.round(bootTime * 1000 + l.t)
        const when = new Date(Math.floor(at / 1e6) * 1000)
        return format === 'notime' ? `${l.msg}\n` : format === 'ctime' ? `[${ctime(when)}] ${l.msg}\n` : `${iso(when, at % 1e6)} ${l.msg}\n`
      })
      .join('')
  return {stdout, stderr: '', code: 0, clear}
}
