// The text of sysfs attributes, in the kernel's formats. Pure functions of
// the core's data; the sysfs tree wires them to paths.

import type {ApBus} from '../core/apbus.js'
import type {Mask} from '../core/mask.js'
import type {LoadedModule} from '../core/modules.js'
import {type Mdev, hex2, hex4} from '../core/model.js'

export const line = (s: string | number): string => `${s}\n`

/** `0x` + 64 hex digits, or `not supported` without QCI. */
export function maskAttr(m: Mask | null): string {
  return m ? line(m.toString()) : 'not supported\n'
}

export const hex08 = (n: number): string => '0x' + (n >>> 0).toString(16).toUpperCase().padStart(8, '0')

export function bindingsAttr(bus: ApBus): string {
  const {bound, total} = bus.bindings()
  return bus.rt.scans >= 1 && bound === total ? `${bound}/${total} (complete)\n` : `${bound}/${total}\n`
}

const ZERO16 = '0x0000000000000000'
const ZERO32 = '0x' + '0'.repeat(32)

/**
 * CCA queue master key verification patterns (the card's cached query
 * answer): only the current registers are loaded; an ASYM register that was
 * never set reads `- -`.
 */
export function ccaMkvps(mk: {aes?: string; apka?: string; asym?: string} = {}): string {
  const cur = (v: string | undefined) => (v ? `valid ${v}` : `invalid ${ZERO16}`)
  const asym = mk.asym
    ? [`ASYM NEW: empty ${ZERO32}`, `ASYM CUR: valid ${mk.asym}`, `ASYM OLD: invalid ${ZERO32}`]
    : ['ASYM NEW: - -', 'ASYM CUR: - -', 'ASYM OLD: - -']
  return [
    `AES NEW: empty ${ZERO16}`,
    `AES CUR: ${cur(mk.aes)}`,
    `AES OLD: invalid ${ZERO16}`,
    `APKA NEW: empty ${ZERO16}`,
    `APKA CUR: ${cur(mk.apka)}`,
    `APKA OLD: invalid ${ZERO16}`,
    ...asym,
  ].join('\n') + '\n'
}

/** EP11 queue wrapping key states. */
export function ep11Mkvps(wk?: string): string {
  return (wk ? `WK CUR: valid ${wk}\n` : 'WK CUR: invalid -\n') + 'WK NEW: empty -\n'
}

const MODE_WORD = {A: 'accel', C: 'cca', P: 'ep11'} as const

/** The `uevent` file of a card or queue device. */
export function apUevent(kind: 'card' | 'queue', driver: string | null, hwtype: number, letter: 'A' | 'C' | 'P' | null): string {
  const lines = [`DEVTYPE=ap_${kind}`]
  if (driver) lines.push(`DRIVER=${driver}`)
  if (kind === 'card') {
    lines.push(`DEV_TYPE=${hwtype.toString(16).toUpperCase().padStart(4, '0')}`)
    lines.push(`MODALIAS=ap:t${hwtype.toString(16).toUpperCase().padStart(2, '0')}`)
  }
  if (letter) lines.push(`MODE=${MODE_WORD[letter]}`)
  return lines.join('\n') + '\n'
}

export const modalias = (hwtype: number): string => `ap:t${hex2(hwtype).toUpperCase()}\n`

/** `matrix` / `guest_matrix`: APQNs, or `05.` / `.0004` lines when one dimension is empty. */
export function matrixText(apm: Mask, aqm: Mask): string {
  const as = apm.bits()
  const ds = aqm.bits()
  if (as.length && ds.length) return as.flatMap((a) => ds.map((d) => `${hex2(a)}.${hex4(d)}\n`)).join('')
  if (as.length) return as.map((a) => `${hex2(a)}.\n`).join('')
  return ds.map((d) => `.${hex4(d)}\n`).join('')
}

export function controlDomainsText(adm: Mask): string {
  return adm
    .bits()
    .map((d) => `${hex4(d)}\n`)
    .join('')
}

/** `ap_config`: the assigned APM, AQM and ADM. */
export function apConfigText(m: Mdev): string {
  return `${m.apm},${m.aqm},${m.adm}\n`
}

/**
 * /proc/modules (kernel/module/procfs.c m_show): `NAME SIZE REFCNT DEPS
 * STATE ADDRESS` per module, DEPS the modules using it each followed by `,`
 * or `-` for none, the text's address `0x%px` only for a reader the kernel
 * shows kernel pointers to (kallsyms_show_value: CAP_SYSLOG), zeros for
 * anyone else. Untainted modules have no taint column.
 */
export function procModulesText(mods: readonly LoadedModule[], showAddresses: boolean): string {
  let out = ''
  for (const m of mods) {
    const deps = m.holders.length > 0 ? m.holders.map((h) => `${h},`).join('') : '-'
    out += `${m.name} ${m.size} ${m.refcnt} ${deps} Live 0x${showAddresses ? m.address : '0'.repeat(16)}\n`
  }
  return out
}
