// util-linux's dmesg (2.38.1) on the emulated host: the host's kernel ring
// buffer in dmesg's formats, cleared by -C/-c by root only (CAP_SYSLOG);
// anyone may read it, as kernel.dmesg_restrict=0 (RHEL, SLES) allows.

import type {LogLine} from '../core/model.js'
import {type OptDef, getoptLong, getoptMessage, opt as o} from './getopt.js'
import {capable} from '../core/perm.js'
import {type DmesgPrinter, FACILITY_NAMES, LEVEL_NAMES, type TimeFormat, dmesgOutput, dmesgPrinter} from '../views/dmesg.js'

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
  /**
   * -w, -W: wait for new records and print them with this printer (stdout
   * holds the records there were, for -w); nothing ends the wait but a
   * signal, and -c never clears.
   */
  follow?: DmesgPrinter
}

const TRY = "Try 'dmesg --help' for more information.\n"
const fail = (stderr: string): DmesgResult => ({stdout: '', stderr, code: 1, clear: false})

/**
 * dmesg's groups of mutually exclusive options (its excl[], in its order):
 * a second option of a group ends it, naming the group's long options.
 */
const EXCL: readonly string[][] = [['C', 'D', 'E', 'c', 'n', 'r'], ['H', 'r'], ['L', 'r'], ['S', 'w'], ['T', 'r'], ['d', 'r'], ['e', 'r'], ['r', 'x'], ['r', 't']]

const LONG_MAX = 9223372036854775807n

/**
 * string_to_bitarray with parse_level or parse_facility: a comma list of
 * names (any case) or numbers. An empty item fails without a word; an
 * unknown one names the list from that item on, as dmesg does.
 */
function parseList(list: string, names: readonly string[], what: 'level' | 'facility'): Set<number> | string {
  const bits = new Set<number>()
  let begin = -1
  for (let p = 0; p < list.length; p++) {
    if (begin < 0) begin = p
    let end = -1
    if (list[p] === ',') end = p
    if (p + 1 === list.length) end = p + 1
    if (end < 0) continue
    if (end <= begin) return ''
    const item = list.slice(begin, end)
    const rest = list.slice(begin)
    let bit = -1
    if (/^[0-9]/.test(item)) {
      // strtol over the item's digits: the whole item must be them, in range.
      const digits = /^[0-9]+/.exec(item)![0]
      if (BigInt(digits) > LONG_MAX) return `dmesg: failed to parse ${what} '${rest}': Numerical result out of range\n`
      if (digits.length === item.length && Number(digits) < names.length) bit = Number(digits)
    } else {
      // strncasecmp: ASCII letters in either case.
      const lower = item.replace(/[A-Z]/g, (c) => c.toLowerCase())
      bit = names.indexOf(lower)
    }
    if (bit < 0) return `dmesg: unknown ${what} '${rest}'\n`
    bits.add(bit)
    begin = -1
  }
  return bits
}

/**
 * dmesg on a ring buffer: the records in the time format asked for (the
 * default `[seconds.micros]`, -t, -T, -d, -e, -H, --time-format), -x's
 * decoded facility and level, -r's raw priority, -J's JSON, filtered by
 * -l, -f, -k, -u. -C clears, -c prints then clears. Without CAP_SYSLOG (any
 * user but root) clearing fails with EPERM; reading is everyone's
 * (dmesg_restrict=0). -w prints the records, then `follow` is for those to
 * come; -W only those to come. Where nothing can come (a guest, a batch),
 * `noFollow` is the line -w and -W fail with.
 */
export function runDmesg(argv: string[], log: LogLine[], bootTime: number, uid: number, noFollow?: string): DmesgResult {
  let time: TimeFormat = 'time'
  let clear = false
  let read = true
  let json = false
  let delta = false
  let raw = false
  let decode = false
  let noescape = false
  let forcePrefix = false
  let follow: 'all' | 'new' | undefined
  let levels: Set<number> | undefined
  let facilities: Set<number> | undefined
  const excl: Array<string | undefined> = EXCL.map(() => undefined)
  const g = getoptLong(argv, OPTS)
  for (const ev of g.events) {
    if (ev.kind !== 'opt') return fail(getoptMessage('dmesg', ev, OPTS) + TRY)
    for (const [e, group] of EXCL.entries()) {
      if (!group.includes(ev.key)) continue
      if (excl[e] === undefined) excl[e] = ev.key
      else if (excl[e] !== ev.key) return fail(`dmesg: mutually exclusive arguments:${group.map((k) => ` --${OPTS.find((d) => d.key === k)!.long}`).join('')}\n`)
    }
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
        read = true
        break
      case 'd':
        delta = true
        break
      case 'e':
      case 'H':
        // -H also pages and colours on a terminal, which the emulation does not (see -L).
        time = 'reltime'
        break
      case 'f':
      case 'l': {
        const bits = ev.key === 'l' ? parseList(ev.arg!, LEVEL_NAMES, 'level') : parseList(ev.arg!, FACILITY_NAMES, 'facility')
        if (typeof bits === 'string') return fail(bits)
        if (ev.key === 'l') levels = new Set([...(levels ?? []), ...bits])
        else facilities = new Set([...(facilities ?? []), ...bits])
        break
      }
      case 'k':
        facilities = new Set([...(facilities ?? []), 0])
        break
      case 'u':
        // Every facility but kern.
        facilities = new Set([...(facilities ?? []), ...[...FACILITY_NAMES.keys()].slice(1)])
        break
      case 'J':
        json = true
        break
      case 'r':
        raw = true
        break
      case 'x':
        decode = true
        break
      case 'noescape':
        noescape = true
        break
      case 'p':
        forcePrefix = true
        break
      case 't':
        time = 'notime'
        break
      case 'T':
        time = 'ctime'
        break
      case 'time-format':
        if (ev.arg === 'notime' || ev.arg === 'ctime' || ev.arg === 'delta' || ev.arg === 'reltime' || ev.arg === 'iso') time = ev.arg
        else return fail(`dmesg: unknown time format: ${ev.arg}\n`)
        break
      case 'w':
        follow ??= 'all'
        break
      case 'W':
        follow = 'new'
        break
      case 'P':
      case 'L':
        // Colours and the pager (dmesg's on a terminal) are not emulated: the output is what a pipe gets.
        break
      default:
        return fail(`dmesg: the emulated host's dmesg does not implement --${OPTS.find((d) => d.key === ev.key)?.long}\n`)
    }
  }
  if (g.operands.length > 0) return fail(`dmesg: bad usage\n${TRY}`)
  let stderr = ''
  if (json) {
    time = 'time'
    delta = false
    forcePrefix = false
    raw = false
    noescape = true
  }
  if (delta) {
    if (time === 'ctime') time = 'ctime-delta'
    else if (time === 'time') time = 'time-delta'
    else if (time === 'iso') stderr = 'dmesg: --show-delta is ignored when used together with iso8601 time format\n'
    else time = 'delta'
  }
  // kernel.dmesg_restrict=0 (RHEL's and SLES's default): everyone may read; clearing needs CAP_SYSLOG.
  if (!read) return capable(uid, 'CAP_SYSLOG') ? {stdout: '', stderr, code: 0, clear} : fail(`${stderr}dmesg: clear kernel buffer failed: Operation not permitted\n`)
  const format = {time, raw, decode, json, noescape, forcePrefix, levels, facilities, bootTime}
  if (follow) {
    if (noFollow !== undefined) return fail(`${stderr}${noFollow}`)
    // Reading /dev/kmsg blocks until a signal ends dmesg: -c's clearing is never reached.
    const printer = dmesgPrinter(format)
    return {stdout: follow === 'all' ? printer.print(log) : '', stderr, code: 0, clear: false, follow: printer}
  }
  const stdout = dmesgOutput(log, format)
  // -c reads /dev/kmsg (anyone may), then clears with syslog(2), which needs CAP_SYSLOG.
  if (clear && !capable(uid, 'CAP_SYSLOG')) return {stdout, stderr: `${stderr}dmesg: clear kernel buffer failed: Operation not permitted\n`, code: 1, clear: false}
  return {stdout, stderr, code: 0, clear}
}
