// Output of `aplab guest list` and `aplab guest show`.

import type {Guest} from '../core/model.js'
import {plainTable} from './table.js'

export interface GuestInfo {
  name: string
  host: string
  /** As virsh words a domain's state: a guest whose CPUs do not run (prelaunch or paused) is paused. */
  state: 'running' | 'paused' | 'shut off'
  /** QEMU's run state while it runs (query-status), null when shut off. */
  run_state: 'running' | 'prelaunch' | 'paused' | null
  managed: Guest['managed']
  autostart: boolean
  cpu: string
  device: {id: string; uuid: string; sysfsdev: string} | null
  apqns: string[]
  control_domains: string[]
}

export async function guestTable(rows: GuestInfo[]): Promise<string> {
  if (rows.length === 0) return ''
  return plainTable(
    ['GUEST', 'HOST', 'STATE', 'DEVICE', 'MDEV', 'APQNS'],
    rows.map((r) => [r.name, r.host, r.state, r.device?.id || (r.device ? '(no id)' : '-'), r.device?.uuid ?? '-', String(r.apqns.length)]),
  )
}

export function guestShow(r: GuestInfo): string {
  return (
    [
      `name:            ${r.name}`,
      `host:            ${r.host}`,
      `state:           ${r.state}${r.run_state === 'prelaunch' ? ' (prelaunch)' : ''}`,
      `managed by:      ${r.managed}${r.autostart ? ', autostart' : ''}`,
      `cpu:             ${r.cpu}`,
      `vfio-ap device:  ${r.device ? `${r.device.id || '(no id)'} ${r.device.sysfsdev}` : '-'}`,
      `apqns:           ${r.apqns.join(' ') || '-'}`,
      `control domains: ${r.control_domains.join(' ') || '-'}`,
    ].join('\n') + '\n'
  )
}
