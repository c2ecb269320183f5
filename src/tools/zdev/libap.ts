// libap (s390-tools 2.43.0, libap/ap.c) as chzdev, lszdev and ap-check use
// it: util_assert's banner, the 256-bit AP masks as hex strings (test, set,
// list, the setting text, and parsing the user's mask input), and vfio_ap:
// is_valid_uuid, the matrix attribute and the mdevctl definitions read
// through json-c 0.16.

import {Crash, scanHex, strtol, strtolLong} from '../libc.js'
import {type JsoArray, arrayLength, getString, jsoncParse, objectEntries, objectGetEx} from '../jsonc.js'
import {SIGSEGV, isWs} from './misc.js'

const AP_MAX = 255
const DEFAULT_MASK = '0x' + '0'.repeat(64)
export const VFIO_AP_TYPE = 'vfio_ap-passthrough'

/**
 * util_assert in libap's ap.c (its 2.43.0 line numbers): libutil's banner
 * on stderr, then abort(). The backtrace's entries (addresses of the real
 * binary) are left out; the core size note follows this process's limit.
 */
export function utilAssert(ok: boolean, assertion: string, func: string, line: number, message: string): void {
  if (ok) return
  throw new Crash(
    134,
    (env) =>
      '---8<-------------------------------------------------------------------------\n' +
      'ASSERTION FAILED: The application terminated due to an internal or OS error\n\n' +
      'The following assumption was *not* true:\n\n' +
      `  ${assertion}\n\nError string:\n\n  ${message}\nLocation:\n\n  ap.c:${line}: ${func}()\n\nBacktrace:\n\n\n` +
      (env.coreDumpsOff ? "Core dump size is zero. To get a full core dump use 'ulimit -c unlimited'.\n" : '') +
      '----------------------------------------------------------------------->8-----\n',
  )
}

// --- AP masks (ap.c, libap) --------------------------------------------------------------------------

/** get_hexbyte_value: the nibble holding bit n; util_assert on a short or malformed mask. */
function hexNibble(n: number, mask: string): number {
  const i = mask.startsWith('0x') ? 2 : 0
  utilAssert(
    mask.length >= 67 - i - 1,
    '(strlen(hexbytestr) >= (size_t)(AP_MASK_SIZE - i - 1))',
    'get_hexbyte_value',
    249,
    `Invalid hex string provided for mask: ${mask}`,
  )
  // Past the end of a short mask C reads the terminating NUL (and prints it with %c).
  const c = mask[i + Math.trunc(n / 4)] ?? '\0'
  const v = /^[0-9a-fA-F]$/.test(c) ? parseInt(c, 16) : -1
  utilAssert(v >= 0, 'false', 'get_hexbyte_value', 260, `Could not parse hex digit '${c}'`)
  return v
}

export const apTestBit = (n: number, mask: string): boolean => (hexNibble(n, mask) & (1 << (3 - (n % 4)))) !== 0

/** ap_set_bit (C's division: a negative n, an unsigned ID gone negative, lands on the first digit). */
export function apSetBit(n: number, mask: string, on: boolean): string {
  let v = hexNibble(n, mask)
  const m = 1 << (3 - (n % 4))
  if (on === ((v & m) !== 0)) return mask
  v = on ? v + m : v - m
  utilAssert(v >= 0 && v <= 15, 'false', 'ap_set_bit', 314, `Could not set bit value '${v}'`)
  const i = mask.startsWith('0x') ? 2 : 0
  const at = i + Math.trunc(n / 4)
  return mask.slice(0, at) + v.toString(16) + mask.slice(at + 1)
}

export function maskToList(mask: string): number[] {
  const out: number[] = []
  for (let i = 0; i <= AP_MAX; i++) if (apTestBit(i, mask)) out.push(i)
  return out
}

/** ap_mask_to_setting: ascending IDs, runs of two or more as A-B, comma-separated; empty mask "". */
export function maskToSetting(mask: string): string {
  const bits = maskToList(mask)
  const parts: string[] = []
  for (let i = 0; i < bits.length; ) {
    let j = i
    while (j + 1 < bits.length && bits[j + 1] === bits[j] + 1) j++
    parts.push(i === j ? `${bits[i]}` : `${bits[i]}-${bits[j]}`)
    i = j + 1
  }
  return parts.join(',')
}

/** parse_mask_entry_single: strtoul(..., 0) of the whole token, at most 255. */
function parseSingle(s: string): number | null {
  const r = strtol(s, 0)
  const end = r.end === 0 ? 0 : r.end
  if (end < s.length) return null
  if (r.value < 0 || r.value > AP_MAX) return null
  return r.value
}

/**
 * ap_validate_mask_input: assignment (from all zeros) or +/- modification
 * of `mask`; null when the input is invalid. Reversed ranges pass and set
 * nothing (the C code compares the addresses, not the values).
 */
export function validateMaskInput(mask: string, input: string): {mask: string; adds: number[]} | null {
  const assign = input[0] !== '+' && input[0] !== '-'
  let m = assign ? DEFAULT_MASK : mask
  const tokens = input.split(',').filter((t) => t !== '')
  if (tokens.length === 0) return null
  for (let tok of tokens) {
    const signed = tok[0] === '+' || tok[0] === '-'
    if (assign === signed) return null
    let on = true
    if (!assign) {
      on = tok[0] === '+'
      tok = tok.slice(1)
      if (tok === '') return null
    }
    let lo: number | null
    let hi: number | null
    const dash = tok.indexOf('-')
    if (dash >= 0) {
      const second = tok.slice(dash + 1)
      if (second === '') return null
      lo = parseSingle(tok.slice(0, dash))
      if (lo === null) return null
      hi = parseSingle(second)
      if (hi === null) return null
    } else {
      lo = hi = parseSingle(tok)
      if (lo === null) return null
    }
    for (let v = lo; v <= hi!; v++) m = apSetBit(v, m, on)
  }
  const adds: number[] = []
  for (let i = 0; i <= AP_MAX; i++) if (!apTestBit(i, mask) && apTestBit(i, m)) adds.push(i)
  return {mask: m, adds}
}

// --- vfio_ap: matrix files and mdevctl definitions (libap) ---------------------------------------------

/** is_valid_uuid: 36 characters that sscanf "%8x-%4x-%4x-%4x-%12x %c" converts to exactly five fields. */
export function isValidUuid(s: string): boolean {
  if (s.length !== 36) return false
  let p = 0
  for (const [w, sep] of [
    [8, '-'],
    [4, '-'],
    [4, '-'],
    [4, '-'],
    [12, ''],
  ] as const) {
    const r = scanHex(s, p, w)
    if (!r) return false
    p = r.end
    if (sep) {
      if (s[p] !== sep) return false
      p++
    }
  }
  while (isWs(s[p])) p++
  return p >= s.length
}

const sortUniq = (xs: number[]): number[] => [...new Set(xs)].sort((a, b) => (a >>> 0) - (b >>> 0))

/** vfio_ap_parse_matrix over the lines of a matrix attribute: `AA.DDDD`, `AA.` or `.DDDD`. */
export function parseMatrix(text: string): {adapters: number[]; domains: number[]} {
  const adapters: number[] = []
  const domains: number[] = []
  const lines = text.split(/(?<=\n)/).filter((l) => l !== '')
  for (const line of lines) {
    let rest: string
    if (line[0] !== '.') {
      const trimmed = line.replace(/^\.+/, '')
      const dot = trimmed.indexOf('.')
      const tok = dot < 0 ? trimmed : trimmed.slice(0, dot)
      adapters.push(parseInt(tok, 16) || 0)
      rest = dot < 0 ? '' : trimmed.slice(dot + 1)
    } else rest = line.slice(1)
    const dom = rest.replace(/^\n+/, '').split('\n')[0]
    if (dom === '') continue
    domains.push(parseInt(dom, 16) || 0)
  }
  return {adapters: sortUniq(adapters), domains: sortUniq(domains)}
}

/** A vfio_ap device definition as libap reads it. */
export interface VfioApConfig {
  /** null when the JSON has no mdev_type (the callers then crash at their type check). */
  type: string | null
  manual: boolean
  adapters: number[]
  domains: number[]
  controls: number[]
}

/**
 * libap vfio_ap_read_device_config (2.43.0) over json-c 0.16, for chzdev,
 * lszdev and ap-check: null (-1) when the file cannot be read, json-c finds
 * no object, or mdev_type or start is wrong. Where the real one dies, this
 * throws Crash: `attrs` that is not an array (json-c's assert), an `attrs`
 * entry that is not an object or a setting that is null (segfaults), a
 * malformed ap_config (util_assert).
 */
export function readVfioApConfig(text: string | null): VfioApConfig | null {
  if (text === null) return null
  const root = jsoncParse(text)
  if (root === null) return null
  const dev: VfioApConfig = {type: null, manual: false, adapters: [], domains: [], controls: []}
  const type = objectGetEx(root, 'mdev_type')
  if (type.found) {
    const val = getString(type.value)
    if (val === null) return null
    dev.type = val
    if (val !== VFIO_AP_TYPE) return null
  }
  const start = objectGetEx(root, 'start')
  if (start.found) {
    const val = getString(start.value)
    if (val === 'auto') dev.manual = false
    else if (val === 'manual') dev.manual = true
    else return null
  }
  const attrs = objectGetEx(root, 'attrs')
  if (attrs.found) {
    const len = arrayLength(attrs.value)
    for (let i = 0; i < len; i++)
      for (const [key, setting] of objectEntries((attrs.value as JsoArray).items[i])) {
        const val = getString(setting)
        if (val === null) SIGSEGV() // load_attr_to_device: util_strdup(NULL)
        loadAttr(dev, key, val!)
      }
  }
  dev.adapters = sortUniq(dev.adapters)
  dev.domains = sortUniq(dev.domains)
  dev.controls = sortUniq(dev.controls)
  return dev
}

/** load_attr_to_device: IDs add to a list (strtol base 0 into an unsigned int); ap_config replaces all three. */
function loadAttr(dev: VfioApConfig, key: string, value: string): void {
  const tokens = value.split(',').filter((t) => t !== '') // strtok(",")
  const list = key === 'assign_adapter' ? dev.adapters : key === 'assign_domain' ? dev.domains : key === 'assign_control_domain' ? dev.controls : null
  if (list) for (const t of tokens) list.push(Number(BigInt.asIntN(32, strtolLong(t))))
  else if (key === 'ap_config') {
    utilAssert(
      tokens.length === 3,
      '(!strtok(NULL, ",")) && adapters && domains && controls',
      'modify_device_ap_config',
      139,
      `Invalid ap_config attribute encountered ${value}`,
    )
    dev.adapters = maskToList(tokens[0])
    dev.domains = maskToList(tokens[1])
    dev.controls = maskToList(tokens[2])
  }
}
