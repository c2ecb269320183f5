// Hand edits of test/fixtures/libvirt-domains.yaml (guest1 running under
// libvirt with id 1, guest2 defined and shut off), each breaking one rule
// libvirtd keeps between its domains and their QEMU processes, with the
// problem aplab must report. Shared by test/core/invariants.test.ts (load)
// and test/libvirt/state.test.ts (the binaries).

import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {FIXTURES} from '../helpers.js'

export const LIBVIRT_DOMAINS = join(FIXTURES, 'libvirt-domains.yaml')
export const libvirtDomains = (): string => readFileSync(LIBVIRT_DOMAINS, 'utf8')

const G1 = '6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11'
const G2 = '7a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11'

export interface LibvirtEdit {
  rule: string
  /** The fixture's text edited (throws when the fixture no longer has what it edits). */
  edit: (text: string) => string
  where: string
  message: string
}

/** `from` (exactly once) replaced with `to`. */
const once =
  (from: string | RegExp, to: string) =>
  (text: string): string => {
    const n = typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from.source, 'g')) ?? []).length
    if (n !== 1) throw new Error(`the fixture has ${n} of ${String(from)}`)
    return text.replace(from, to)
  }

export const LIBVIRT_EDITS: LibvirtEdit[] = [
  {
    rule: 'a running guest\'s domain without a live definition',
    edit: once(/ {10}live:\n {12}id: 1\n {12}xml: \|\n(?: {14}.*\n)+/, '          live: null\n'),
    where: 'hosts[0].libvirt.domains[0].live',
    message: "domain 'guest1' has no live definition, but its QEMU process runs (hosts[0].guests[0])",
  },
  {
    rule: 'two domains with one name',
    edit: once('        - name: guest2\n', '        - name: guest1\n'),
    where: 'hosts[0].libvirt.domains[1].name',
    message: "domain 'guest1' is listed twice (hosts[0].libvirt.domains[0])",
  },
  {
    rule: 'two domains with one UUID',
    edit: once(`          uuid: ${G2}\n`, `          uuid: ${G1}\n`),
    where: 'hosts[0].libvirt.domains[1].uuid',
    message: `domain 'guest2': uuid ${G1} is also domain 'guest1's (hosts[0].libvirt.domains[0])`,
  },
  {
    rule: 'a domain neither defined nor running',
    edit: once(/( {8}- name: guest2\n {10}uuid: .*\n) {10}config: \|\n(?: {12}.*\n)+/, '$1'),
    where: 'hosts[0].libvirt.domains[1]',
    message: "domain 'guest2' has neither a persistent definition (config) nor a live one (live): libvirt has no such domain",
  },
  {
    rule: 'a running domain\'s id not below next_id',
    edit: once('      next_id: 2\n', '      next_id: 1\n'),
    where: 'hosts[0].libvirt.domains[0].live.id',
    message: "domain 'guest1' runs with id 1, not below the next id libvirt gives (libvirt.next_id 1)",
  },
]
