// `aplab matrix --json`: the same data as the drawing, with IDs written as
// the text views write them (adapters 0x05, domains 0x0004, APQNs 05.0004).

import type {MatrixView} from '../../core/matrix.js'
import {adapterId, domainId, queueName} from '../../core/model.js'

export function matrixJson(v: MatrixView): string {
  const data = {
    host: v.host,
    max_adapter: adapterId(v.maxAdapter),
    max_domain: domainId(v.maxDomain),
    vfio_ap_loaded: v.vfioLoaded,
    focus: v.focus,
    adapters: v.adapters.map((a) => ({id: adapterId(a.id), type: a.type, in_config: a.inConfig, configured: a.configured, apmask: a.apmask})),
    domains: v.domains.map((d) => ({id: domainId(d.id), usage: d.usage, control: d.control, aqmask: d.aqmask})),
    queues: v.queues.map((q) => ({
      apqn: queueName(q.adapter, q.domain),
      in_config: q.inConfig,
      exists: q.exists,
      reserved_for_host: q.reserved,
      driver: q.driver,
      mdev: q.mdev,
      guest: q.guest,
    })),
    mdevs: v.mdevs.map((m) => ({
      uuid: m.uuid,
      letter: m.letter,
      adapters: m.adapters.map(adapterId),
      domains: m.domains.map(domainId),
      control_domains: m.controlDomains.map(domainId),
      guest_matrix: {adapters: m.guestMatrix.adapters.map(adapterId), domains: m.guestMatrix.domains.map(domainId), control_domains: m.guestMatrix.controlDomains.map(domainId)},
      guest: m.guest,
    })),
    guests: v.guests.map((g) => ({
      name: g.name,
      running: g.running,
      mdev: g.mdev,
      apqns: g.adapters.flatMap((a) => g.domains.map((d) => queueName(a, d))),
      control_domains: g.controlDomains.map(domainId),
    })),
  }
  return JSON.stringify(data, null, 2) + '\n'
}
