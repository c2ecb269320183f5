// Hand edits of test/fixtures/two-guests.yaml, each breaking one rule the
// kernel keeps between objects, with the problem aplab must report. Shared
// by test/core/invariants.test.ts (load) and test/e2e/state.test.ts (the
// binaries).

import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {FIXTURES} from './helpers.js'

export const U1 = '11111111-1111-4111-8111-111111111111'
export const U2 = '22222222-2222-4222-8222-222222222222'
export const U3 = '33333333-3333-4333-8333-333333333333'

export const TWO_GUESTS = join(FIXTURES, 'two-guests.yaml')
export const twoGuests = (): string => readFileSync(TWO_GUESTS, 'utf8')

export interface Edit {
  /** What the edit breaks. */
  rule: string
  /** Replace the first `from` of the fixture's text with `to`, for each pair. */
  edits: Array<[string, string]>
  where: string
  message: string
}

/** The fixture with an edit made; throws if a `from` is not in it (the fixture changed). */
export function edited(e: Edit): string {
  let text = twoGuests()
  for (const [from, to] of e.edits) {
    if (!text.includes(from)) throw new Error(`the fixture has no ${JSON.stringify(from)}`)
    text = text.replace(from, to)
  }
  return text
}

const U2_DEVICE = `uuid: ${U2}\n          sysfsdev:`

export const EDITS: Edit[] = [
  {
    rule: 'an APQN in two mdevs (EADDRINUSE)',
    edits: [['          domains: 0x47,0xff\n          control_domains: ""\n          guest_matrix:', '          domains: 0x04,0x47,0xff\n          control_domains: ""\n          guest_matrix:']],
    where: 'hosts[0].runtime.mdevs[1]',
    message: `mdev ${U2}: APQN 05.0004 is also assigned to mdev ${U1} (hosts[0].runtime.mdevs[0])`,
  },
  {
    rule: 'an mdev holding an APQN reserved for the host (EADDRNOTAVAIL, the in-use check)',
    edits: [['apmask: 0x00-0x04,0x07-0xff\n      aqmask: 0x00-0x03,0x05-0x46,0x48-0xaa,0xac-0xfe', 'apmask: 0x00-0xff\n      aqmask: 0x00-0xff']],
    where: 'hosts[0].runtime.mdevs[0]',
    message: `mdev ${U1}: APQN 05.0004 is reserved for the host's drivers by apmask and aqmask`,
  },
  {
    rule: 'guest_matrix outside the matrix',
    edits: [['guest_matrix:\n            adapters: "0x05"', 'guest_matrix:\n            adapters: 0x05-0x06']],
    where: 'hosts[0].runtime.mdevs[1].guest_matrix',
    message: `mdev ${U2}: guest_matrix has adapter 0x06, which is not among the mdev's adapters`,
  },
  {
    rule: 'guest_matrix with a queue not bound to vfio_ap',
    edits: [['      unbound: []\n      counters: {}\n      mdevs:', '      unbound:\n        - "05.0004"\n      counters: {}\n      mdevs:']],
    where: 'hosts[0].runtime.mdevs[0].guest_matrix',
    message: `mdev ${U1}: guest_matrix has queue 05.0004, which is not bound to vfio_ap (runtime.unbound)`,
  },
  {
    rule: 'guest_matrix with a domain the LPAR does not have',
    edits: [['usage_domains: 0x04,0x47,0xab,0xff', 'usage_domains: 0x04,0x47,0xff']],
    where: 'hosts[0].runtime.mdevs[0].guest_matrix',
    message: `mdev ${U1}: guest_matrix has domain 0x00ab, which is not a usage domain of the LPAR`,
  },
  {
    rule: 'two running guests on one mdev',
    edits: [[U2_DEVICE, `uuid: ${U1}\n          sysfsdev:`]],
    where: 'hosts[0].guests[1].device.uuid',
    message: `guest 'gb' has mdev ${U1} open, and so does guest 'ga' (hosts[0].guests[0])`,
  },
  {
    rule: 'a running guest on a missing mdev',
    edits: [[U2_DEVICE, `uuid: ${U3}\n          sysfsdev:`]],
    where: 'hosts[0].guests[1].device.uuid',
    message: `guest 'gb' runs with mdev ${U3}, which host 'h0' does not have`,
  },
  {
    rule: 'a vfio-ap device without the ap CPU feature',
    edits: [['          model: host\n          ap: true', '          model: host\n          ap: false']],
    where: 'hosts[0].guests[0].cpu.ap',
    message: "guest 'ga' has a vfio-ap device but not the CPU feature ap (QEMU has no ap-bus without it)",
  },
  {
    rule: 'mdevs without vfio_ap',
    edits: [['      modules:\n        - vfio_ap\n', '      modules: []\n']],
    where: 'hosts[0].runtime.mdevs',
    message: 'mediated devices exist only while vfio_ap is loaded, and it is not (runtime.modules)',
  },
  {
    rule: 'two mdevs with one UUID',
    edits: [[`- uuid: ${U2}`, `- uuid: ${U1}`]],
    where: 'hosts[0].runtime.mdevs[1].uuid',
    message: `mdev ${U1} is listed twice`,
  },
  {
    rule: 'two mdevs in one IOMMU group',
    edits: [['iommu_group: 1', 'iommu_group: 0']],
    where: 'hosts[0].runtime.mdevs[1].iommu_group',
    message: `mdev ${U2}: IOMMU group 0 is also mdev ${U1}'s (hosts[0].runtime.mdevs[0])`,
  },
  {
    rule: 'an mdev adapter above ap_max_adapter_id (ENODEV)',
    edits: [
      ['na: 255', 'na: 10'],
      ['          adapters: "0x05"\n          domains: 0x47,0xff', '          adapters: 0x05,0x20\n          domains: 0x47,0xff'],
    ],
    where: 'hosts[0].runtime.mdevs[1].adapters',
    message: `mdev ${U2}: adapter 0x20 is above the highest adapter id 10`,
  },
  {
    rule: 'an LPAR domain above ap_max_domain_id',
    edits: [['nd: 255', 'nd: 200']],
    where: 'hosts[0].lpar.usage_domains',
    message: 'domain 0x00ff is above the highest domain id 200 (ap_max_domain_id)',
  },
]
