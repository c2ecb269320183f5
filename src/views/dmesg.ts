// dmesg's output of the kernel ring buffer (util-linux 2.38.1, reading
// /dev/kmsg): each record's decode prefix (-x), time stamp in the chosen
// format, and text, or -r's raw `<PRI>[time] ` prefix, or -J's JSON; records
// filtered by level (-l) and facility (-f, -k, -u).

import type {LogLine} from '../core/model.js'

/** dmesg's level names (syslog.h's priorities), by number. */
export const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug']
/** dmesg's facility names, by number: the first 12 of syslog's (local0..7 have none). */
export const FACILITY_NAMES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp']

/** dmesg's time formats (DMESG_TIMEFTM_*); the `-delta` ones are -d's with a time. */
export type TimeFormat = 'notime' | 'ctime' | 'ctime-delta' | 'delta' | 'reltime' | 'time' | 'time-delta' | 'iso'

export interface DmesgFormat {
  time: TimeFormat
  /** -r: `<PRI>[seconds] text`. */
  raw: boolean
  /** -x: `facility:level : ` before the time (in JSON: "fac" and "pri" by name). */
  decode: boolean
  json: boolean
  /** --noescape: print unprintable characters as they are, not as `\xHH`. */
  noescape: boolean
  /** -p: the prefix on each line of a multi-line record. */
  forcePrefix: boolean
  /** -l: the levels to print; undefined prints all. */
  levels?: ReadonlySet<number>
  /** -f, -k, -u: the facilities to print; undefined prints all. */
  facilities?: ReadonlySet<number>
  /** When the host booted, ms since the epoch: the wall clock of ctime, iso and reltime. */
  bootTime: number
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const p2 = (n: number): string => String(n).padStart(2, '0')
const hex2 = (n: number): string => n.toString(16).padStart(2, '0')

/** strftime's `%a %b %e %H:%M:%S %Y` of a local time, as -T prints it: `Sun Dec  6 22:56:41 2026`. */
function ctime(d: Date): string {
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`
}

/** strftime's `%b%e %H:%M`, -H's minute: `Dec 6 22:56`, `Dec17 09:05`. */
const shortCtime = (d: Date): string => `${MONTHS[d.getMonth()]}${String(d.getDate()).padStart(2)} ${p2(d.getHours())}:${p2(d.getMinutes())}`

/** ISO 8601 with microseconds after a comma and the local offset: `2026-12-06T22:56:41,000000+00:00`. */
function iso(d: Date, us: number): string {
  const off = -d.getTimezoneOffset()
  const sign = off < 0 ? '-' : '+'
  const a = Math.abs(off)
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())},${String(us).padStart(6, '0')}${sign}${p2(Math.floor(a / 60))}:${p2(a % 60)}`
}

/** The day of the year, as struct tm's tm_yday. */
function yday(d: Date): number {
  return Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - new Date(d.getFullYear(), 0, 1).getTime()) / 86400000)
}

/** printf's `%W.06f` (a `+` flag with `sign`). */
const fixed = (x: number, width: number, sign = false): string => ((sign && x >= 0 ? '+' : '') + x.toFixed(6)).padStart(width)

/** `%5ld.%06ld` of a time since boot. */
const secs = (sec: number, usec: number): string => `${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}`

/**
 * safe_fwrite: an unprintable character as `\xHH` of its bytes (unless
 * --noescape), and after a line break that is not the last character, the
 * prefix's width in blanks.
 */
function text(s: string, noescape: boolean, indent: number): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\x00-\x08\n\x0e-\x1f\x7f-\x9f]/.test(s)) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (!noescape && ((c < 0x20 && (c < 9 || c > 13)) || c === 0x7f)) out += '\\x' + hex2(c)
    // A C1 control: not printable in a UTF-8 locale, so its two bytes.
    else if (!noescape && c >= 0x80 && c <= 0x9f) out += '\\xc2\\x' + hex2(c)
    else if (c === 10 && i + 1 < s.length && indent) out += '\n' + ' '.repeat(indent)
    else out += s[i]
  }
  return out
}

/** dmesg's output of `lines` in format `f`: what print_record writes for each accepted record. */
export function dmesgOutput(lines: readonly LogLine[], f: DmesgFormat): string {
  const p = dmesgPrinter(f)
  return p.print(lines) + p.end()
}

/**
 * dmesg printing records as they come (-w): `print` gives what
 * print_record writes for each accepted record, keeping what the next
 * record's prefix depends on (-d's and -H's last time, -J's open array);
 * `end` what dmesg writes after the last (-J's closing brackets).
 * `bootTime` may change between calls (a follower across a reboot).
 */
export interface DmesgPrinter {
  print(lines: readonly LogLine[]): string
  end(): string
  bootTime: number
}

export function dmesgPrinter(f: DmesgFormat): DmesgPrinter {
  let jsonOpen = false
  // The last record's time (-d, -H): unset while both are 0, as timerisset sees it.
  let lastSec = 0
  let lastUsec = 0
  // The last record's minute (-H), zero before the first, as dmesg's static struct tm.
  let lastTm = {min: 0, hour: 0, yday: 0}
  const delta = (sec: number, usec: number): number => {
    const d = lastSec || lastUsec ? sec - lastSec + (usec - lastUsec) / 1e6 : 0
    lastSec = sec
    lastUsec = usec
    return d
  }
  const printer: DmesgPrinter = {bootTime: f.bootTime, print, end: () => (jsonOpen ? '}\n   ]\n}\n' : '')}
  function print(lines: readonly LogLine[]): string {
    const out: string[] = []
    const bootSec = Math.floor(printer.bootTime / 1000)
    for (const l of lines) {
      // parse_faclev keeps a facility up to one past its names; a higher one is unknown (-1).
      const fac = l.facility > FACILITY_NAMES.length ? -1 : l.facility
      const lev = l.level
      const valid = fac >= 0 && fac < FACILITY_NAMES.length && lev >= 0 && lev < LEVEL_NAMES.length
      // Without a time format dmesg skips the record's time: it is 0.
      const us = f.time === 'notime' ? 0 : Math.round(l.t)
      const sec = Math.floor(us / 1e6)
      const usec = us % 1e6
      if (f.levels && (fac < 0 || !f.levels.has(lev))) continue
      if (f.facilities && (fac < 0 || !f.facilities.has(fac))) continue
      if (l.msg === '') {
        if (!f.json) out.push('\n')
        continue
      }
      if (f.json) {
        // glibc's LOG_MAKEPRI(fac, pri) is (fac | pri): util-linux 2.38.1 passes the facility unshifted.
        const members: string[] = []
        if (valid) {
          if (f.decode) members.push(`"fac": "${FACILITY_NAMES[fac]}"`, `"pri": "${LEVEL_NAMES[lev]}"`)
          else members.push(`"pri": ${fac | lev}`)
        }
        members.push(`"time": ${secs(sec, usec)}`, `"msg": ${JSON.stringify(l.msg)}`)
        out.push(`${jsonOpen ? '},{' : '{\n   "dmesg": [\n      {'}\n         ${members.join(',\n         ')}\n      `)
        jsonOpen = true
        continue
      }
      let ts: string
      let fp = ''
      let reltimeNext = ''
      if (f.raw) {
        // The same LOG_MAKEPRI: `<7>` for daemon.notice; an unknown facility (-1) gives -1.
        ts = `<${fac | lev}>[${secs(sec, usec)}] `
      } else {
        if (f.decode && valid) fp = `${FACILITY_NAMES[fac].padEnd(6)}:${LEVEL_NAMES[lev].padEnd(6)}: `
        const at = (): Date => new Date((bootSec + sec) * 1000)
        switch (f.time) {
          case 'notime':
            ts = ''
            break
          case 'ctime':
            ts = `[${ctime(at())}] `
            break
          case 'ctime-delta':
            ts = `[${ctime(at())} <${fixed(delta(sec, usec), 12)}>] `
            break
          case 'delta':
            ts = `[<${fixed(delta(sec, usec), 12)}>] `
            break
          case 'reltime': {
            const cur = at()
            const d = delta(sec, usec)
            const tm = {min: cur.getMinutes(), hour: cur.getHours(), yday: yday(cur)}
            if (tm.min !== lastTm.min || tm.hour !== lastTm.hour || tm.yday !== lastTm.yday) ts = `[${shortCtime(cur)}] `
            else ts = d < 10 ? `[  ${fixed(d, 8, true)}] ` : `[ ${fixed(d, 9, true)}] `
            lastTm = tm
            // -p: a record's further lines show no time passed.
            reltimeNext = '[  +0.000000] '
            break
          }
          case 'time':
            ts = `[${secs(sec, usec)}] `
            break
          case 'time-delta':
            ts = `[${secs(sec, usec)} <${fixed(delta(sec, usec), 12)}>] `
            break
          case 'iso':
            ts = `${iso(at(), usec)} `
            break
        }
      }
      const indent = ts.length + fp.length
      if (!f.forcePrefix) {
        out.push(fp + ts + text(l.msg, f.noescape, indent) + '\n')
        continue
      }
      // -p: strtok's lines (empty ones dropped), each behind the prefix.
      const parts = l.msg.split('\n').filter((p) => p !== '')
      if (parts.length === 0) out.push(fp + ts + '\n')
      else out.push(parts.map((p, i) => fp + (i > 0 && reltimeNext ? reltimeNext : ts) + text(p, f.noescape, indent)).join('\n') + '\n')
    }
    return out.join('')
  }
  return printer
}
