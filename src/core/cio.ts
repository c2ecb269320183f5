// The channel subsystem's device blacklist (cio_ignore): which CCW device
// numbers Linux pretends not to see. The host has no CCW devices of its own
// in aplab, but chzdev and operators read and write /proc/cio_ignore, so the
// list is kept as the kernel keeps it: set at boot from `cio_ignore=`, with
// the devices the initramfs brings up for the root file system freed again,
// then changed by `free`, `add` and `purge` writes.

/** Subchannel sets 0..3 of 65,536 device numbers each; channel subsystem 0 only. */
const MAX_SSID = 3
const MAX_DEVNO = 0xffff
const PER_SSID = MAX_DEVNO + 1
const LAST = (MAX_SSID + 1) * PER_SSID - 1

/** Inclusive ranges of device indexes (ssid * 65536 + devno), sorted and disjoint. */
export type Blacklist = Array<[number, number]>

function add(list: Blacklist, from: number, to: number): Blacklist {
  const out: Blacklist = []
  for (const [a, b] of list) {
    if (b < from - 1 || a > to + 1) out.push([a, b])
    else {
      from = Math.min(from, a)
      to = Math.max(to, b)
    }
  }
  out.push([from, to])
  return out.sort((x, y) => x[0] - y[0])
}

function free(list: Blacklist, from: number, to: number): Blacklist {
  const out: Blacklist = []
  for (const [a, b] of list) {
    if (b < from || a > to) out.push([a, b])
    else {
      if (a < from) out.push([a, from - 1])
      if (b > to) out.push([to + 1, b])
    }
  }
  return out
}

export const busId = (i: number): string => `0.${Math.floor(i / PER_SSID).toString(16)}.${(i % PER_SSID).toString(16).padStart(4, '0')}`

/** Up to `max` hex digits at `s[at]`: their value and where they end. */
function hexRun(s: string, at: number, max: number): {value: number; end: number} {
  let end = at
  while (end < s.length && end - at <= max && /[0-9a-fA-F]/.test(s[end])) end++
  return {value: end > at ? parseInt(s.slice(at, end), 16) : 0, end}
}

/**
 * A bus ID as the kernel takes it: a bare hex device number of subchannel
 * set 0 (`5c00`, `0x5c00`), or `C.S.DDDD` with a one- or two-digit channel
 * subsystem (only 0 exists), a subchannel set 0-3 and four digits.
 */
function parseBusId(s: string): number | null {
  const old = /^(?:0[xX])?([0-9a-fA-F]+)$/.exec(s)
  if (old) {
    const v = parseInt(old[1], 16)
    return v <= MAX_DEVNO ? v : null
  }
  const css = hexRun(s, 0, 2)
  if (css.end === 0 || css.end > 2 || css.value !== 0 || s[css.end] !== '.') return null
  const ssid = hexRun(s, css.end + 1, 1)
  if (ssid.end - css.end - 1 !== 1 || ssid.value > MAX_SSID || s[ssid.end] !== '.') return null
  const dev = hexRun(s, ssid.end + 1, 4)
  if (dev.end - ssid.end - 1 !== 4 || dev.end !== s.length) return null
  return ssid.value * PER_SSID + dev.value
}

/**
 * Apply a comma-separated list (`all`, `ipldev`, `condev`, `ID`, `ID-ID`,
 * each optionally negated with `!`) to the blacklist. Items that do not
 * parse are skipped, the others still apply; `warn` hears of each bad one
 * (the kernel logs them for the boot parameter only).
 */
function applyItems(list: Blacklist, text: string, adding: boolean, warn?: (msg: string) => void): {list: Blacklist; ok: boolean} {
  let ok = true
  for (const raw of text.split(',')) {
    const negate = raw.startsWith('!')
    const item = negate ? raw.slice(1) : raw
    const on = adding !== negate
    let from: number
    let to: number
    if (item === 'all') [from, to] = [0, LAST]
    // An LPAR's console is the SCLP, not a CCW device; aplab IPLs from no device it models.
    else if (item === 'ipldev' || item === 'condev') continue
    else {
      const dash = item.indexOf('-')
      const a = dash < 0 ? item : item.slice(0, dash)
      const f = parseBusId(a)
      if (f === null) {
        warn?.(`cio: ${a} is not a valid device for the cio_ignore kernel parameter`)
        ok = false
        continue
      }
      const t = dash < 0 ? f : parseBusId(item.slice(dash + 1))
      if (t === null) {
        warn?.(`cio: ${item.slice(dash + 1)} is not a valid device for the cio_ignore kernel parameter`)
        ok = false
        continue
      }
      if (t < f) {
        warn?.(`cio: ${busId(f)} to ${busId(t)} is not a valid range for cio_ignore`)
        ok = false
        continue
      }
      ;[from, to] = [f, t]
    }
    list = on ? add(list, from, to) : free(list, from, to)
  }
  return {list, ok}
}

/** The bus IDs an initramfs option brings up (rd.dasd=, rd.zfcp=, rd.znet=): dracut frees them. */
function initramfsDevices(name: string, value: string): string[] {
  const items = value.split(',')
  if (name === 'rd.dasd') return items.filter((i) => /^[0-9a-fA-F.]+(-[0-9a-fA-F.]+)?$/.test(i))
  if (name === 'rd.zfcp') return items.slice(0, 1)
  if (name === 'rd.znet') return items.slice(1).filter((i) => /^[0-9a-fA-F]\.[0-9a-fA-F]\.[0-9a-fA-F]{4}$/.test(i))
  return []
}

/** The blacklist a host runs with after booting `params`; the kernel's complaints go to `warn`. */
export function bootBlacklist(params: Array<[string, string | undefined]>, warn?: (msg: string) => void): Blacklist {
  let list: Blacklist = []
  for (const [name, value] of params) if (name === 'cio_ignore' && value !== undefined) list = applyItems(list, value, true, warn).list
  for (const [name, value] of params)
    if (value !== undefined) for (const id of initramfsDevices(name, value)) list = applyItems(list, id, false).list
  return list
}

/** /proc/cio_ignore: one line per blacklisted device or run of devices within a subchannel set. */
export function showBlacklist(list: Blacklist): string {
  let out = ''
  for (const [a, b] of list) {
    for (let from = a; from <= b; ) {
      const to = Math.min(b, (Math.floor(from / PER_SSID) + 1) * PER_SSID - 1)
      out += from === to ? `${busId(from)}\n` : `${busId(from)}-${busId(to)}\n`
      from = to + 1
    }
  }
  return out
}

/**
 * A write to /proc/cio_ignore: `free LIST`, `add LIST` or `purge` (with no
 * CCW devices there is nothing to purge). The items that parse apply even
 * when another one does not; `ok` is false when the kernel answers EINVAL.
 */
export function writeBlacklist(list: Blacklist, buf: string): {list: Blacklist; ok: boolean} {
  const text = buf.replace(/[\s\0]+$/, '')
  const sp = text.indexOf(' ')
  const verb = sp < 0 ? text : text.slice(0, sp)
  if (verb === 'purge') return {list, ok: true}
  if (verb !== 'free' && verb !== 'add') return {list, ok: false}
  return sp < 0 ? {list, ok: true} : applyItems(list, text.slice(sp + 1), verb === 'add')
}

/** The blacklist as state-file text: one bus ID or range per entry. */
export const blacklistText = (list: Blacklist): string[] => list.map(([a, b]) => (a === b ? busId(a) : `${busId(a)}-${busId(b)}`))

/** The inverse of blacklistText; null for an entry that is not a bus ID or range. */
export function blacklistFromText(items: string[]): Blacklist | null {
  let list: Blacklist = []
  for (const item of items) {
    const [a, b = a] = item.split('-')
    const f = parseBusId(a)
    const t = parseBusId(b)
    if (f === null || t === null || t < f || item.split('-').length > 2) return null
    list = add(list, f, t)
  }
  return list
}
