// Changes of the LPAR's AP configuration as the SE/HMC makes them while the
// host runs: adapters and domains come and go. The machine tells the host
// (CHSC "AP configuration changed"), the AP bus rescans, and vfio_ap follows
// with its config-changed and scan-complete callbacks (kernel-qemu.md §1.6, §3).

import {ApBus} from './apbus.js'
import {AplabError} from './errors.js'
import {maxAdapterId, maxDomainId, newAdapter, parseTypeName} from './lpar.js'
import {Mask} from './mask.js'
import {type Host, hex2, hex4} from './model.js'
import {filterCdoms, filterMatrix, hostBus} from './vfio.js'

export class HwError extends AplabError {}

function forgetGone(host: Host): void {
  new ApBus(host.lpar, host.runtime).forgetGone()
}

/**
 * The configuration changed: first on_config_changed (what left is taken out
 * of every shadow, without resets), then the scan (devices go and come),
 * then on_scan_complete (mdevs with additions are refiltered).
 */
function configChanged(host: Host, change: () => void): void {
  const before = {apm: Mask.of(host.lpar.adapters.map((a) => a.id)), aqm: host.lpar.usage, adm: host.lpar.control}
  change()
  const after = {apm: Mask.of(host.lpar.adapters.map((a) => a.id)), aqm: host.lpar.usage, adm: host.lpar.control}
  if (!host.lpar.qci) return forgetGone(host)
  const removed = {apm: before.apm.andNot(after.apm), aqm: before.aqm.andNot(after.aqm), adm: before.adm.andNot(after.adm)}
  const added = {apm: after.apm.andNot(before.apm), aqm: after.aqm.andNot(before.aqm), adm: after.adm.andNot(before.adm)}
  for (const m of host.runtime.mdevs)
    m.shadow = {apm: m.shadow.apm.andNot(removed.apm), aqm: m.shadow.aqm.andNot(removed.aqm), adm: m.shadow.adm.andNot(removed.adm)}
  forgetGone(host)
  const bus = hostBus(host)
  for (const m of host.runtime.mdevs) {
    if (added.apm.intersects(m.apm) || added.aqm.intersects(m.aqm)) filterMatrix(host, bus, m)
    if (added.adm.intersects(m.adm)) filterCdoms(host, m)
  }
  host.runtime.scans++
}

function checkId(what: 'adapter' | 'domain', id: number, host: Host): void {
  const max = what === 'adapter' ? maxAdapterId(host.lpar) : maxDomainId(host.lpar)
  // In hex, as every view writes adapters (0x05) and domains (0x0004).
  const h = (n: number): string => '0x' + (what === 'adapter' ? hex2(n) : hex4(n))
  if (!Number.isInteger(id) || id < 0 || id > max)
    throw new HwError(`${what} ${h(id)} is out of range: this LPAR has ${what} ids ${h(0)} to ${h(max)} (${what === 'adapter' ? 'ap_max_adapter_id' : 'ap_max_domain_id'})`)
}

/** An id as the SE shows it: decimal or 0x hex. */
export function parseHwId(text: string): number {
  const t = text.trim()
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16)
  if (/^[0-9]+$/.test(t)) return parseInt(t, 10)
  throw new HwError(`'${text}' is not an adapter or domain id (decimal or 0x hex)`)
}

export function addAdapter(host: Host, id: number, type: string): void {
  checkId('adapter', id, host)
  const t = parseTypeName(type)
  if (!t) throw new HwError(`'${type}' is not an adapter type: CEX4 to CEX8 with A (accelerator), C (CCA) or P (EP11), such as CEX8C`)
  if (host.lpar.adapters.some((a) => a.id === id)) throw new HwError(`adapter ${hex2(id)} is in the configuration already`)
  configChanged(host, () => {
    host.lpar.adapters = [...host.lpar.adapters, newAdapter(id, t.gen, t.mode)].sort((a, b) => a.id - b.id)
  })
}

export function removeAdapter(host: Host, id: number): void {
  checkId('adapter', id, host)
  if (!host.lpar.adapters.some((a) => a.id === id)) throw new HwError(`adapter ${hex2(id)} is not in the configuration`)
  configChanged(host, () => {
    host.lpar.adapters = host.lpar.adapters.filter((a) => a.id !== id)
    for (const q of Object.keys(host.lpar.queues)) if (q.startsWith(`${hex2(id)}.`)) delete host.lpar.queues[q]
  })
}

/** A usage domain is also a control domain; `controlOnly` adds or removes just the control domain. */
export function addDomain(host: Host, id: number, controlOnly: boolean): void {
  checkId('domain', id, host)
  const l = host.lpar
  if (controlOnly ? l.control.has(id) : l.usage.has(id)) throw new HwError(`${controlOnly ? 'control ' : ''}domain ${hex4(id)} is in the configuration already`)
  configChanged(host, () => {
    if (!controlOnly) l.usage = l.usage.with(id)
    l.control = l.control.with(id)
  })
}

export function removeDomain(host: Host, id: number, controlOnly: boolean): void {
  checkId('domain', id, host)
  const l = host.lpar
  if (controlOnly ? !l.control.has(id) || l.usage.has(id) : !l.usage.has(id))
    throw new HwError(
      controlOnly && l.usage.has(id)
        ? `domain ${hex4(id)} is a usage domain: remove it without --control`
        : `${controlOnly ? 'control ' : ''}domain ${hex4(id)} is not in the configuration`,
    )
  configChanged(host, () => {
    l.usage = l.usage.without(id)
    l.control = l.control.without(id)
  })
}
