// The LPAR's AP configuration: adapter types, function bits and the limits
// QCI reports.

import type {Adapter, Lpar, Mode} from './model.js'

/** ap_functions bits (bit 0 = 0x80000000). */
export const FN = {
  APSC: 0x80000000,
  MEX4K: 0x40000000,
  CRT4K: 0x20000000,
  COPRO: 0x10000000,
  ACCEL: 0x08000000,
  EP11: 0x04000000,
  APXA: 0x02000000,
  HWFILTER: 0x01000000,
  FULL: 0x00800000,
  RESTRICTED: 0x00400000,
} as const

const DEFAULT_FUNCTIONS: Record<Mode, number> = {
  accel: 0x6a800000,
  cca: 0x92800000,
  ep11: 0x06800000,
}

export function defaultFunctions(gen: number, mode: Mode): number {
  // CEX8 coprocessors in CCA mode do stateless filtering in hardware.
  if (mode === 'cca' && gen >= 8) return (DEFAULT_FUNCTIONS.cca | FN.HWFILTER) >>> 0
  return DEFAULT_FUNCTIONS[mode]
}

export function adapterFunctions(a: Adapter): number {
  return a.functions ?? defaultFunctions(a.gen, a.mode)
}

/** The hardware type TAPQ reports (raw_hwtype). */
export function rawHwtype(a: Adapter): number {
  return a.rawType ?? a.gen + 6
}

/**
 * The compatible type the AP bus uses (hwtype): 10..14 as they are, newer
 * types mapped to CEX8 through QACT, anything else unsupported (0).
 */
export function compatHwtype(a: Adapter, lpar: Lpar): number {
  const raw = rawHwtype(a)
  if (raw < 10) return 0
  if (raw <= 14) return raw
  return lpar.qci && lpar.features.includes('QACT') ? 14 : 0
}

/** The zcrypt mode letter from ap_functions, in the kernel's order; null if none. */
export function modeLetter(fn: number): 'A' | 'C' | 'P' | null {
  if (fn & FN.ACCEL) return 'A'
  if (fn & FN.COPRO) return 'C'
  if (fn & FN.EP11) return 'P'
  return null
}

/** The zcrypt `type` string (CEX8C ...) for a compatible hwtype and function bits. */
export function typeString(hwtype: number, fn: number): string | null {
  const letter = modeLetter(fn)
  if (letter === null || hwtype < 10 || hwtype > 14) return null
  return `CEX${hwtype - 6}${letter}`
}

const MODE_BY_LETTER: Record<string, Mode> = {A: 'accel', C: 'cca', P: 'ep11'}

/** Parse a type name such as `CEX8C` (case-insensitive) into generation and mode. */
export function parseTypeName(name: string): {gen: number; mode: Mode} | null {
  const m = /^CEX([4-8])([ACP])$/i.exec(name)
  if (!m) return null
  return {gen: Number(m[1]), mode: MODE_BY_LETTER[m[2].toUpperCase()]}
}

export function typeName(a: Pick<Adapter, 'gen' | 'mode'>): string {
  const letter = {accel: 'A', cca: 'C', ep11: 'P'}[a.mode]
  return `CEX${a.gen}${letter}`
}

/** ap_max_adapter_id: QCI Na with APXA, else 63. */
export function maxAdapterId(l: Lpar): number {
  return l.qci && l.features.includes('APXA') && l.na ? l.na : 63
}

/** ap_max_domain_id: QCI Nd with APXA, else 15. */
export function maxDomainId(l: Lpar): number {
  return l.qci && l.features.includes('APXA') && l.nd ? l.nd : 15
}

export function newAdapter(id: number, gen: number, mode: Mode, extra: Partial<Adapter> = {}): Adapter {
  return {id, gen, mode, depth: 8, maxMsgSize: 12288, configured: true, checkstopped: false, ...extra}
}
