// Device ID namespaces (s390-tools 2.43.0, zdev/src/namespace.c with
// ccw.c, ccwgroup.c, zfcp_lun.c and ap.c): which device IDs and ranges each
// namespace accepts, the messages for invalid ones, and check_devspec of
// chzdev and lszdev.

import {scanHex} from '../libc.js'
import {type Devtype, DEVTYPES, type NsName, type Subtype} from './devtype.js'
import {EXIT} from './exit_code.js'
import {type ZOut, isWs} from './misc.js'

/** sscanf(id, "%8x.%8x.%8x %c") style: the number of conversions (-1 on empty input). */
function scanHexList(id: string, count: number): number[] | null {
  let p = 0
  const vals: number[] = []
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      if (id[p] !== '.') return vals
      p++
    }
    const r = scanHex(id, p, 8)
    if (!r) return vals
    vals.push(r.value)
    p = r.end
  }
  while (isWs(id[p])) p++
  if (p < id.length) vals.push(-1) // %c matched a character
  return vals
}

interface CcwId {
  cssid: number
  ssid: number
  devno: number
}

/** ccw_parse_devid: the ID or the reason it is invalid. */
export function ccwParse(id: string): CcwId | {reason: string} {
  let cssid = 0
  let ssid = 0
  let devno: number
  const one = id.trim() === '' ? null : scanHexList(id, 1)
  if (one && one.length === 1) {
    if (id.toLowerCase() === '0x') return {reason: 'Incomplete hexadecimal number'}
    devno = one[0]
  } else {
    const three = id.trim() === '' ? null : scanHexList(id, 3)
    if (!three || three.length !== 3) return {reason: 'Invalid format'}
    ;[cssid, ssid, devno] = three
  }
  if (cssid > 255) return {reason: 'CSSID out of bounds'}
  if (ssid > 15) return {reason: 'SSID out of bounds'}
  if (devno > 65535) return {reason: 'DEVNO out of bounds'}
  return {cssid, ssid, devno}
}

const ccwValid = (id: string): boolean => !('reason' in ccwParse(id))

function ccwRangeCheck(range: string): string | null {
  const cut = range.indexOf('-')
  if (cut < 0) return `Error in CCW device ID range format: Missing hyphen: ${range}\n`
  for (const part of [range.slice(0, cut), range.slice(cut + 1)]) {
    const r = ccwParse(part)
    if ('reason' in r) return `Error in CCW device ID format: ${r.reason}: ${part}\n`
  }
  return null
}

const validHex = (s: string): boolean => /^(0[xX])?[0-9a-fA-F]+$/.test(s)

/** ccw_is_id_similar: xx.xx.xxxx or xxxx, each part hexadecimal of at most 8 digits. */
function ccwSimilar(id: string): boolean {
  if (id.includes(':')) return false
  const parts = id.split('.')
  if (parts.length !== 1 && parts.length < 3) return false
  const check = parts.length === 1 ? parts : [parts[0], parts[1], parts.slice(2).join('.')]
  return check.every((p) => validHex(p) && p.length <= 8)
}

const GROUP_SIZE: Record<string, number> = {qeth: 3, ctc: 2}

export interface Namespace {
  name: NsName
  /** is_id_valid: null when valid, else the message err_print would print. */
  idError(id: string): string | null
  rangeError(range: string): string | null
  similar(id: string): boolean
  /** The namespace has a blacklist (cio_ignore). */
  blacklist: boolean
}

const AP_UNSUPPORTED = 'Error: AP device management is not supported\n'

export const NAMESPACES: Namespace[] = [
  {
    name: 'ccw',
    idError: (id) => {
      const r = ccwParse(id)
      return 'reason' in r ? `Error in CCW device ID format: ${r.reason}: ${id}\n` : null
    },
    rangeError: ccwRangeCheck,
    similar: ccwSimilar,
    blacklist: true,
  },
  {
    // zfcp-lun IDs: <FCP device>:<WWPN>:<LUN> (approximation of zfcp_lun.c).
    name: 'zfcp_lun',
    idError: (id) => {
      const p = id.split(':')
      const ok = p.length === 3 && ccwValid(p[0]) && /^(0x)?[0-9a-f]{1,16}$/i.test(p[1]) && /^(0x)?[0-9a-f]{1,16}$/i.test(p[2])
      return ok ? null : `Unrecognized zfcp-attached SCSI device ID format: ${id}\n`
    },
    rangeError: (r) => `Unrecognized zfcp-attached SCSI device ID range format: ${r}\n`,
    similar: () => false,
    blacklist: false,
  },
  ...(['qeth', 'ctc'] as const).map(
    (name): Namespace => ({
      // CCW group IDs: 1 to N CCW device IDs separated by colons (approximation of ccwgroup.c).
      name,
      idError: (id) => {
        const p = id.split(':')
        return p.length >= 1 && p.length <= GROUP_SIZE[name] && p.every(ccwValid) ? null : `Unrecognized CCW group device ID format: ${id}\n`
      },
      rangeError: (r) => (ccwRangeCheck(r) === null ? null : `Unrecognized CCW group device ID range format: ${r}\n`),
      similar: () => false,
      blacklist: true,
    }),
  ),
  {name: 'ap', idError: () => AP_UNSUPPORTED, rangeError: () => AP_UNSUPPORTED, similar: () => false, blacklist: false},
]

export const nsOf = (st: Subtype): Namespace => NAMESPACES.find((n) => n.name === st.ns)!
export const nsIdValid = (ns: Namespace, id: string): boolean => ns.idError(id) === null
export const nsRangeValid = (ns: Namespace, r: string): boolean => ns.rangeError(r) === null

export function normalizeId(st: Subtype, id: string): string {
  if (st.ns !== 'ccw') return id
  const r = ccwParse(id)
  return 'reason' in r ? id : `${r.cssid.toString(16)}.${r.ssid.toString(16)}.${r.devno.toString(16).padStart(4, '0')}`
}

/** is_devspec: every comma-separated part is an ID or range of the type (or of any namespace). */
export function isDevspec(dt: Devtype | null, st: Subtype | null, spec: string): boolean {
  const nss = st ? [nsOf(st)] : dt ? dt.subtypes.map(nsOf) : NAMESPACES
  return spec.split(',').every((p) => nss.some((ns) => nsIdValid(ns, p) || nsRangeValid(ns, p)))
}

function countNamespaces(dt: Devtype): number {
  return new Set(dt.subtypes.map((s) => s.ns)).size
}

function mostSimilarNs(onlyDt: Devtype | null, id: string): Namespace | null {
  let match: Namespace | null = null
  for (const dt of DEVTYPES) {
    if (onlyDt && dt !== onlyDt) continue
    for (const st of dt.subtypes) {
      const ns = nsOf(st)
      if (!nsIdValid(ns, id) && !ns.similar(id)) continue
      if (match && match !== ns) return null
      match = ns
    }
  }
  return match
}

/** check_devspec of chzdev/lszdev: the message and exit code for the first invalid part. */
export function checkDevspec(o: ZOut, dt: Devtype | null, st: Subtype | null, spec: string, lszdev: boolean): number {
  for (const cur of spec.split(',')) {
    const rc = cur.includes('-') ? checkRange(o, dt, st, cur, lszdev) : checkDevid(o, dt, st, cur)
    if (rc) return rc
  }
  return EXIT.OK
}

function scopeNs(dt: Devtype | null, st: Subtype | null): Namespace[] {
  const out: Namespace[] = []
  for (const d of DEVTYPES) {
    if (dt && d !== dt) continue
    for (const s of d.subtypes) if (!st || s === st) out.push(nsOf(s))
  }
  return out
}

function checkDevid(o: ZOut, dt: Devtype | null, st: Subtype | null, id: string): number {
  if (scopeNs(dt, st).some((ns) => nsIdValid(ns, id))) return EXIT.OK
  let ns: Namespace | null
  if (st) ns = nsOf(st)
  else if (dt && countNamespaces(dt) === 1) ns = nsOf(dt.subtypes[0])
  else ns = mostSimilarNs(dt, id)
  if (ns) {
    const msg = ns.idError(id)
    if (msg === null) return EXIT.OK
    o.error(msg)
    return EXIT.INVALID_ID
  }
  if (dt) {
    o.error(`Unrecognized ${dt.devname} ID format: ${id}\n`)
    return EXIT.INVALID_ID
  }
  o.syntax(`Unknown device type or device ID format: ${id}\n`)
  return EXIT.USAGE_ERROR
}

function checkRange(o: ZOut, dt: Devtype | null, st: Subtype | null, range: string, lszdev: boolean): number {
  if (scopeNs(dt, st).some((ns) => nsRangeValid(ns, range))) return EXIT.OK
  let ns: Namespace | null = null
  if (st) ns = nsOf(st)
  else if (dt && countNamespaces(dt) === 1) ns = nsOf(dt.subtypes[0])
  if (ns) {
    const msg = ns.rangeError(range)
    if (msg === null) return EXIT.OK
    o.error(msg)
    return EXIT.INVALID_ID
  }
  if (dt) {
    o.error(`Unrecognized ${dt.devname} ${lszdev ? 'device ' : ''}ID range format: ${range}\n`)
    return EXIT.INVALID_ID
  }
  o.syntax(`Unknown device type or device ID range format: ${range}\n`)
  return EXIT.USAGE_ERROR
}
