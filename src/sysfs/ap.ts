// /sys/bus/ap and /sys/devices/ap: the AP bus, its card and queue devices and
// their drivers, with the attributes the kernel creates for each.

import {
  type ApBus,
  seAssociateText,
  seBindText,
  writeBind,
  writeCardConfig,
  writeCardOnline,
  writeConfigTime,
  writeDomain,
  writeMask,
  writePollThread,
  writePollTimeout,
  writeQueueOnline,
  writeScans,
  writeSeAssociate,
  writeSeBind,
  resetQueue,
  writeUnbind,
} from '../core/apbus.js'
import {modeLetter} from '../core/lpar.js'
import {cardName, queueName} from '../core/model.js'
import {apUevent, bindingsAttr, ccaMkvps, ep11Mkvps, hex08, line, maskAttr, modalias} from '../views/sysfs.js'
import {type DirNode, type Node, dir, lazyDir, link, mergeDirs, ro, rw, wo} from './vfs.js'

/** Access to the bus for one file system operation; `changed` after every successful store. */
export interface BusRef {
  bus(): ApBus
  changed(): void
}

const CARD_RE = /^card([0-9a-f]{2})$/
const QUEUE_RE = /^([0-9a-f]{2})\.([0-9a-f]{4})$/

function store(ref: BusRef, fn: (bus: ApBus, buf: string) => void) {
  return (buf: string) => {
    fn(ref.bus(), buf)
    ref.changed()
  }
}

/** /sys/bus/ap */
export function busApDir(ref: BusRef): DirNode {
  const b = () => ref.bus()
  const drivers = () => {
    const names = ['cex4card', 'cex4queue']
    if (b().vfioLoaded) names.push('vfio_ap')
    return names.sort()
  }
  return dir({
    ap_adapter_mask: ro(() => maskAttr(b().adapterMask())),
    ap_control_domain_mask: ro(() => maskAttr(b().controlMask())),
    ap_domain: rw(() => line(b().rt.domain), store(ref, writeDomain)),
    ap_interrupts: ro(() => line(b().interrupts() ? 1 : 0)),
    ap_max_adapter_id: ro(() => line(b().maxAdapterId)),
    ap_max_domain_id: ro(() => line(b().maxDomainId)),
    ap_usage_domain_mask: ro(() => maskAttr(b().usageMask())),
    apmask: rw(() => line(b().rt.apmask.toString()), store(ref, (bus, buf) => writeMask(bus, 'apmask', buf))),
    aqmask: rw(() => line(b().rt.aqmask.toString()), store(ref, (bus, buf) => writeMask(bus, 'aqmask', buf))),
    bindings: ro(() => bindingsAttr(b())),
    config_time: rw(() => line(b().rt.configTime), store(ref, writeConfigTime)),
    devices: lazyDir(
      () => devicesList(b()),
      (name) => {
        const dev = deviceDir(b(), name)
        return dev ? link(`../../../devices/ap/${dev}`) : undefined
      },
    ),
    drivers: lazyDir(drivers, (name) => (drivers().includes(name) ? driverDir(ref, name) : undefined)),
    drivers_autoprobe: ro(() => '1\n'),
    drivers_probe: wo(() => undefined),
    features: ro(() => line(b().features())),
    poll_thread: rw(() => line(b().rt.pollThread ? 1 : 0), store(ref, writePollThread)),
    poll_timeout: rw(() => line(b().rt.pollTimeout), store(ref, writePollTimeout)),
    scans: rw(() => line(b().rt.scans), store(ref, (bus) => writeScans(bus))),
    uevent: wo(() => undefined),
  })
}

function devicesList(bus: ApBus): string[] {
  const out: string[] = []
  for (const c of bus.cardIds()) {
    out.push(cardName(c))
    for (const d of bus.domainIds()) out.push(queueName(c, d))
  }
  return out
}

/** The path of a device below /sys/devices/ap, or null. */
function deviceDir(bus: ApBus, name: string): string | null {
  let m = CARD_RE.exec(name)
  if (m) return bus.hasCard(parseInt(m[1], 16)) ? name : null
  m = QUEUE_RE.exec(name)
  if (m && bus.hasQueue(parseInt(m[1], 16), parseInt(m[2], 16))) return `card${m[1]}/${name}`
  return null
}

function boundTo(bus: ApBus, name: string): string | null {
  let m = CARD_RE.exec(name)
  if (m) return bus.hasCard(parseInt(m[1], 16)) ? bus.cardDriver(parseInt(m[1], 16)) : null
  m = QUEUE_RE.exec(name)
  if (m) {
    const c = parseInt(m[1], 16)
    const d = parseInt(m[2], 16)
    return bus.hasQueue(c, d) ? bus.queueDriver(c, d) : null
  }
  return null
}

function driverDir(ref: BusRef, driver: string): DirNode {
  const b = () => ref.bus()
  const fixed = dir({
    bind: wo(store(ref, (bus, buf) => writeBind(bus, driver, buf))),
    module: link(driver === 'vfio_ap' ? '../../../../module/vfio_ap' : '../../../../module/zcrypt_cex4'),
    uevent: wo(() => undefined),
    unbind: wo(store(ref, (bus, buf) => writeUnbind(bus, driver, buf))),
  })
  const bound = lazyDir(
    () => devicesList(b()).filter((n) => boundTo(b(), n) === driver),
    (name) => (boundTo(b(), name) === driver ? link(`../../../../devices/ap/${deviceDir(b(), name)}`) : undefined),
  )
  return mergeDirs(fixed, bound)
}

/** /sys/devices/ap */
export function devicesApDir(ref: BusRef): DirNode {
  const b = () => ref.bus()
  const fixed = dir({power: dir({}), uevent: ro(() => '')})
  // Device directories are built once per file system view; whether a device
  // exists is still decided at each lookup.
  const made = new Map<number, DirNode>()
  const cards = lazyDir(
    () => b().cardIds().map(cardName),
    (name) => {
      const m = CARD_RE.exec(name)
      const apid = m ? parseInt(m[1], 16) : -1
      if (!m || !b().hasCard(apid)) return undefined
      let d = made.get(apid)
      if (!d) made.set(apid, (d = cardDir(ref, apid)))
      return d
    },
  )
  return mergeDirs(fixed, cards)
}

const opt = (cond: boolean, node: Node): Node | undefined => (cond ? node : undefined)

function cardDir(ref: BusRef, apid: number): DirNode {
  const b = () => ref.bus()
  const drv = () => b().cardDriver(apid)
  const fn = () => b().cardFunctions(apid)
  const zcrypt = () => drv() !== null
  const letter = () => modeLetter(fn())
  const attrs = dir({
    API_ordinalnr: () => opt(zcrypt() && letter() === 'P', ro(() => line(b().adapter(apid)!.ep11?.api ?? ''))),
    FW_version: () => opt(zcrypt() && letter() === 'P', ro(() => line(b().adapter(apid)!.ep11?.fw ?? ''))),
    ap_functions: ro(() => line(hex08(fn()))),
    chkstop: ro(() => line(b().cardChkstop(apid) ? 1 : 0)),
    config: rw(() => line(b().cardConfig(apid) ? 1 : 0), store(ref, (bus, buf) => writeCardConfig(bus, apid, buf))),
    depth: ro(() => line(b().adapter(apid)!.depth)),
    driver: () => opt(zcrypt(), link('../../../bus/ap/drivers/cex4card')),
    hwtype: ro(() => line(b().hwtype(apid))),
    load: () => opt(zcrypt(), ro(() => '0\n')),
    max_msg_size: ro(() => line(b().adapter(apid)!.maxMsgSize)),
    modalias: ro(() => modalias(b().hwtype(apid))),
    online: () =>
      opt(zcrypt(), rw(() => line(b().cardOnline(apid) ? 1 : 0), store(ref, (bus, buf) => writeCardOnline(bus, apid, buf)))),
    op_modes: () => opt(zcrypt() && letter() === 'P', ro(() => line(b().adapter(apid)!.ep11?.opModes ?? ''))),
    pendingq_count: ro(() => line(b().cardCounters(apid).pendingq)),
    power: dir({}),
    raw_hwtype: ro(() => line(b().adapter(apid)!.rawType ?? b().adapter(apid)!.gen + 6)),
    request_count: ro(() => line(b().cardCounters(apid).requests)),
    requestq_count: ro(() => line(b().cardCounters(apid).requestq)),
    serialnr: () => opt(zcrypt() && (letter() === 'C' || letter() === 'P'), ro(() => line(cardSerial(b(), apid)))),
    subsystem: link('../../../bus/ap'),
    type: () => opt(zcrypt(), ro(() => line(b().cardType(apid) ?? ''))),
    uevent: ro(() => apUevent('card', drv(), b().hwtype(apid), letter())),
  })
  // The last queue directory made is kept (a tool reads a queue's attributes
  // one after the other); keeping all of them made lszcrypt -V of 65,536
  // queues spend its time in the garbage collector.
  let last: {apqi: number; d: DirNode} | undefined
  const queues = lazyDir(
    () => b().domainIds().map((d) => queueName(apid, d)),
    (name) => {
      const m = QUEUE_RE.exec(name)
      if (!m || parseInt(m[1], 16) !== apid) return undefined
      const apqi = parseInt(m[2], 16)
      if (!b().hasQueue(apid, apqi)) return undefined
      if (last?.apqi !== apqi) last = {apqi, d: queueDir(ref, apid, apqi)}
      return last.d
    },
  )
  return mergeDirs(attrs, queues)
}

/**
 * CCA cards answer the serial number query through the default domain (the
 * answer is cached, so an offline card still shows it); EP11 cards report it
 * from the card itself.
 */
function cardSerial(bus: ApBus, apid: number): string {
  const serial = bus.adapter(apid)!.serial ?? ''
  if (modeLetter(bus.cardFunctions(apid)) === 'P') return serial.slice(0, 16)
  return bus.rt.domain >= 0 ? serial : ''
}

function queueDir(ref: BusRef, apid: number, apqi: number): DirNode {
  const b = () => ref.bus()
  const drv = () => b().queueDriver(apid, apqi)
  const zq = () => drv() === 'cex4queue'
  const letter = () => modeLetter(b().cardFunctions(apid))
  const se = () => b().hasFeature('APSB')
  const init = () => b().queueInitialised(apid, apqi)
  return dir({
    ap_functions: ro(() => line(hex08(b().queueFunctions(apid, apqi)))),
    chkstop: ro(() => line(b().cardChkstop(apid) ? 1 : 0)),
    config: ro(() => line(b().cardConfig(apid) ? 1 : 0)),
    driver: () => {
      const d = drv()
      return d ? link(`../../../../bus/ap/drivers/${d}`) : undefined
    },
    interrupt: ro(() => (init() && b().interrupts() ? 'Interrupts enabled.\n' : 'Interrupts disabled.\n')),
    load: () => opt(zq(), ro(() => '0\n')),
    mkvps: () =>
      opt(
        zq() && (letter() === 'C' || letter() === 'P'),
        ro(() =>
          letter() === 'C'
            ? ccaMkvps(b().queueHw(apid, apqi).mk)
            : ep11Mkvps(b().queueHw(apid, apqi).wk),
        ),
      ),
    online: () =>
      opt(zq(), rw(() => line(b().queueOnline(apid, apqi) ? 1 : 0), store(ref, (bus, buf) => writeQueueOnline(bus, apid, apqi, buf)))),
    op_modes: () => opt(zq() && letter() === 'P', ro(() => line(b().adapter(apid)!.ep11?.opModes ?? ''))),
    pendingq_count: ro(() => line(init() ? b().counters(apid, apqi).pendingq : 0)),
    power: dir({}),
    request_count: ro(() => line(init() ? b().counters(apid, apqi).requests : '-')),
    requestq_count: ro(() => line(init() ? b().counters(apid, apqi).requestq : 0)),
    reset: rw(() => 'No Reset Timer set.\n', store(ref, (bus) => resetQueue(bus, apid, apqi))),
    se_associate: () =>
      opt(se(), rw(() => line(seAssociateText(b(), apid, apqi)), store(ref, (bus, buf) => writeSeAssociate(bus, apid, apqi, buf)))),
    se_bind: () => opt(se(), rw(() => line(seBindText(b(), apid, apqi)), store(ref, (bus, buf) => writeSeBind(bus, apid, apqi, buf)))),
    status: () => opt(drv() === 'vfio_ap', ro(() => line(b().vfioStatus(apid, apqi)))),
    subsystem: link('../../../../bus/ap'),
    uevent: ro(() => apUevent('queue', drv(), b().hwtype(apid), letter())),
  })
}
