// The JSON of aplab's listings, with IDs written as the text views write
// them: adapters 0x05, domains 0x0004, APQNs 05.0004.

import type {MdevInfo} from './mdev.js'
import {adapterId, domainId} from '../core/model.js'

export interface MdevJson {
  uuid: string
  active: boolean
  defined: 'auto' | 'manual' | null
  adapters: string[]
  domains: string[]
  control_domains: string[]
  guest_matrix: {adapters: string[]; domains: string[]; control_domains: string[]}
}

/** An mdev (running, or as its mdevctl definition would assign it) with its IDs in the text views' hex. */
export function mdevJson(r: MdevInfo): MdevJson {
  return {
    uuid: r.uuid,
    active: r.active,
    defined: r.defined,
    adapters: r.adapters.map(adapterId),
    domains: r.domains.map(domainId),
    control_domains: r.control_domains.map(domainId),
    guest_matrix: {
      adapters: r.guest_matrix.adapters.map(adapterId),
      domains: r.guest_matrix.domains.map(domainId),
      control_domains: r.guest_matrix.control_domains.map(domainId),
    },
  }
}
