// Output of aplab's own commands (the mirrored tools have their own views).

import type {Preset} from '../core/presets.js'
import {plainTable} from './table.js'

export interface HostRow {
  name: string
  current: boolean
  adapters: number
  usage_domains: number
  vfio_ap: boolean
  mdevs: number
  guests: string[]
}

/** The presets as a borderless table, for `aplab init --list`. */
export async function presetTable(presets: Preset[]): Promise<string> {
  return plainTable(['PRESET', 'HOST'], presets.map((p) => [p.name, p.summary]), [12, 66])
}

/** `aplab host list`: one line per host, the current one marked with `*`. */
export async function hostTable(rows: HostRow[]): Promise<string> {
  return plainTable(
    ['', 'HOST', 'ADAPTERS', 'DOMAINS', 'VFIO_AP', 'MDEVS', 'GUESTS'],
    rows.map((r) => [r.current ? '*' : '', r.name, String(r.adapters), String(r.usage_domains), r.vfio_ap ? 'loaded' : '-', String(r.mdevs), r.guests.join(',') || '-']),
  )
}
