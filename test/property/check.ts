// The isolation invariant, checked from the outside on a whole world: what
// vfio_ap and KVM guarantee about who can reach which AP queue.

import {guestApcb} from '../../src/core/guest.js'
import {type Host, type World, hex2, hex4} from '../../src/core/model.js'
import {hostBus} from '../../src/core/vfio.js'

const apqn = (a: number, d: number): string => `${hex2(a)}.${hex4(d)}`

/** Every way the world breaks isolation, one line each; empty when it holds. */
export function isolationProblems(w: World): string[] {
  return w.hosts.flatMap((h) => hostProblems(h).map((p) => `host ${h.name}: ${p}`))
}

function hostProblems(host: Host): string[] {
  const out: string[] = []
  const bus = hostBus(host)
  const configured = new Set(host.lpar.adapters.map((a) => a.id))
  // No APQN in two running guests' APCBs.
  const owner = new Map<string, string>()
  for (const g of host.guests) {
    if (!g.running) continue
    const apcb = guestApcb(host, g)
    for (const a of apcb.apm.bits())
      for (const d of apcb.aqm.bits()) {
        const q = apqn(a, d)
        const other = owner.get(q)
        if (other !== undefined) out.push(`${q} is in the APCBs of guests ${other} and ${g.name}`)
        owner.set(q, g.name)
        // Never the host's: neither reserved for its drivers nor bound to them.
        if (bus.reservedForHost(a, d)) out.push(`${q} of guest ${g.name} is reserved for the host (apmask & aqmask)`)
        // Every guest APQN is in the host's configuration and bound to vfio_ap.
        if (!configured.has(a) || !host.lpar.usage.has(d)) out.push(`${q} of guest ${g.name} is not in the LPAR's configuration`)
        else if (!bus.hasQueue(a, d)) out.push(`${q} of guest ${g.name} is not a queue device of the host`)
        else if (bus.queueDriver(a, d) !== 'vfio_ap') out.push(`${q} of guest ${g.name} is bound to ${bus.queueDriver(a, d) ?? 'no driver'}, not vfio_ap`)
      }
    for (const c of apcb.adm.bits()) if (!host.lpar.control.has(c)) out.push(`control domain ${hex4(c)} of guest ${g.name} is not in the LPAR's configuration`)
  }
  // No APQN in two mdevs.
  const mdevs = host.runtime.mdevs
  for (let i = 0; i < mdevs.length; i++)
    for (let j = i + 1; j < mdevs.length; j++) {
      const a = mdevs[i].apm.and(mdevs[j].apm).bits()
      const d = mdevs[i].aqm.and(mdevs[j].aqm).bits()
      if (a.length && d.length) out.push(`${apqn(a[0], d[0])} is assigned to mdevs ${mdevs[i].uuid} and ${mdevs[j].uuid}`)
    }
  // No mdev open in two running guests.
  const holders = new Map<string, string>()
  for (const g of host.guests) {
    if (!g.running || !g.device || !g.features.ap) continue
    const other = holders.get(g.device.uuid)
    if (other !== undefined) out.push(`mdev ${g.device.uuid} is open in guests ${other} and ${g.name}`)
    holders.set(g.device.uuid, g.name)
  }
  return out
}
