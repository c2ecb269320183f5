// udev rules as libutil reads them (s390-tools 2.43.0, util_udev.c): the
// key/operator/value entries of each line, unparsable lines reported.

import type {ZOut} from './misc.js'

export interface UdevEntry {
  key: string
  op: string
  value: string
}

/**
 * util_udev_read_file: the entries of each line (comments and empty lines
 * have none). Lines that do not parse are reported on stderr and dropped.
 */
export function udevParse(o: ZOut | null, path: string, text: string): UdevEntry[][] {
  const lines: UdevEntry[][] = []
  let once = false
  for (const line of text.split('\n')) {
    const r = udevLine(line)
    if (r) {
      lines.push(r)
      continue
    }
    if (o) {
      if (!once) o.err(`Unrecognized udev rule in ${path}:\n`)
      once = true
      o.err(`${line}\n`)
    }
  }
  return lines
}

function udevLine(line: string): UdevEntry[] | null {
  if (/^[ \t\n\v\f\r]*(#|$)/.test(line)) return []
  // Commas outside quotes separate the entries.
  const parts: string[] = []
  let cur = ''
  let quoted = ''
  for (const c of line) {
    if (quoted) {
      if (c === quoted) quoted = ''
    } else if (c === '"' || c === "'") quoted = c
    else if (c === ',') {
      parts.push(cur)
      cur = ''
      continue
    }
    cur += c
  }
  parts.push(cur)
  const out: UdevEntry[] = []
  for (const p of parts) {
    let s = p.replace(/^[ \t\n\v\f\r]+/, '')
    const km = /^[A-Za-z0-9_]*/.exec(s)![0]
    let key = km
    let rest = s.slice(km.length)
    if (rest[0] === '{') {
      const close = rest.indexOf('}')
      const end = close < 0 ? rest.length : close + 1
      key += rest.slice(0, end)
      rest = rest.slice(end)
    }
    if (key === '') return null
    s = rest.replace(/^[ \t\n\v\f\r]+/, '')
    const op = ['==', '!=', '=', '+=', ':='].find((x) => s.startsWith(x))
    if (!op) return null
    let value = s.slice(op.length).replace(/^[ \t\n\v\f\r]+/, '').replace(/[ \t\n\v\f\r]+$/, '')
    if (value.length >= 2 && ((value[0] === '"' && value.endsWith('"')) || (value[0] === "'" && value.endsWith("'")))) value = value.slice(1, -1)
    else if (value === '"' || value === "'") value = ''
    out.push({key, op, value})
  }
  return out
}
