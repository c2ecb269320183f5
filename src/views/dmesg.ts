// dmesg's output of the kernel ring buffer (util-linux 2.38.1): the default
// `[seconds.micros] message` lines and -J's JSON.

import type {LogLine} from '../core/model.js'

/** The time column, `%5lu.%06lu` of the record's microseconds since boot. */
function seconds(t: number): string {
  const us = Math.round(t)
  return `${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}`
}

export function dmesgText(lines: LogLine[]): string {
  return lines.map((l) => `[${seconds(l.t)}] ${l.msg}\n`).join('')
}

/**
 * `dmesg -J`: util-linux's JSON writer (three spaces a level, `},{` between
 * records, the time as in the text). The records carry no priority (aplab
 * keeps none), so each has only "time" and "msg", as dmesg writes a record
 * without one; an empty buffer prints nothing at all.
 */
export function dmesgJson(lines: LogLine[]): string {
  if (lines.length === 0) return ''
  const records = lines.map((l) => `         "time": ${seconds(l.t)},\n         "msg": ${JSON.stringify(l.msg)}\n`)
  return `{\n   "dmesg": [\n      {\n${records.join('      },{\n')}      }\n   ]\n}\n`
}
