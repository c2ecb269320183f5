// Output of `aplab mdev list` and `aplab mdev show`.

import {hex2, hex4} from '../core/model.js'
import {plainTable} from './table.js'

export interface MdevInfo {
  uuid: string
  active: boolean
  defined: 'auto' | 'manual' | null
  adapters: number[]
  domains: number[]
  control_domains: number[]
  guest_matrix: {adapters: number[]; domains: number[]; control_domains: number[]}
}

const ids = (xs: number[], hex: (n: number) => string): string => (xs.length ? xs.map((x) => '0x' + hex(x)).join(',') : '-')

export async function mdevTable(rows: MdevInfo[]): Promise<string> {
  if (rows.length === 0) return ''
  const out = rows.map((r) => {
    const state = [r.active ? 'active' : 'inactive', r.defined ? `defined ${r.defined}` : ''].filter(Boolean).join(', ')
    const guest = r.guest_matrix.adapters.length * r.guest_matrix.domains.length
    return [r.uuid, state, ids(r.adapters, hex2), ids(r.domains, hex4), ids(r.control_domains, hex4), r.active ? String(guest) : '-']
  })
  return plainTable(['UUID', 'STATE', 'ADAPTERS', 'DOMAINS', 'CONTROL', 'GUEST APQNS'], out)
}

const apqns = (a: number[], d: number[]): string => {
  if (a.length && d.length) return a.flatMap((x) => d.map((y) => `${hex2(x)}.${hex4(y)}`)).join(' ')
  if (a.length) return a.map((x) => `${hex2(x)}.`).join(' ')
  if (d.length) return d.map((y) => `.${hex4(y)}`).join(' ')
  return '-'
}

export function mdevShow(r: MdevInfo, guest: string | null): string {
  return [
    `uuid:            ${r.uuid}`,
    `state:           ${r.active ? 'active' : 'inactive'}`,
    `definition:      ${r.defined ? `mdevctl, start ${r.defined}` : 'none (lost at the next reboot)'}`,
    `matrix:          ${r.active || r.defined ? apqns(r.adapters, r.domains) : '-'}${r.active ? '' : ' (as defined)'}`,
    `guest_matrix:    ${r.active ? apqns(r.guest_matrix.adapters, r.guest_matrix.domains) : '-'}`,
    `control_domains: ${r.active || r.defined ? ids(r.control_domains, hex4) : '-'}`,
    `guest:           ${guest ?? '-'}`,
  ].join('\n') + '\n'
}
