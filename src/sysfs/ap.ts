// /sys/bus/ap and /sys/devices/ap: the AP bus, its card and queue devices and
// their drivers, with the attributes the kernel creates for each.

import {
  type ApBus,
  type QueueDriver,
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
import {type DirNode, type Node, dir, lazyDir, link, mergeDirs, ro, rw, tableDir, wo} from './vfs.js'

/** Access to the bus for one file system operation; `changed` after every successful store. */
export interface BusRef {
  bus(): ApBus
  changed(): void
}

const CARD_RE = /^card([0-9a-f]{2})$/
const QUEUE_RE = /^([0-9a-f]{2})\.([0-9a-f]{4})$/

/** A lower-case hex digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

/**
 * QUEUE_RE without a regular expression (a card directory looks up each of
 * its queues by name): APID << 16 | APQI, or -1 when `name` is no queue's.
 */
function queueId(name: string): number {
  if (name.length !== 7 || name.charCodeAt(2) !== 46) return -1
  let id = 0
  for (let i = 0; i < 7; i++) {
    if (i === 2) continue
    const v = hexDigit(name.charCodeAt(i))
    if (v < 0) return -1
    id = id * 16 + v
  }
  return id
}

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
  // What a card's files show depends on the bus alone, and the bus is made
  // anew after every store: what they derive from it is derived once per
  // bus (a tool reads its card's files again for each of 256 queues; the
  // counters sum those of all the queues).
  const perBus = <T>(f: (bus: ApBus) => T): (() => T) => {
    let memo: {bus: ApBus; value: T} | undefined
    return () => {
      const bus = b()
      if (memo?.bus !== bus) memo = {bus, value: f(bus)}
      return memo.value
    }
  }
  const drv = perBus((bus) => bus.cardDriver(apid))
  const fn = perBus((bus) => bus.cardFunctions(apid))
  const zcrypt = () => drv() !== null
  const letter = () => modeLetter(fn())
  const sums = perBus((bus) => bus.cardCounters(apid))
  const text = (f: (bus: ApBus) => string | number) => ro(perBus((bus) => line(f(bus))))
  const type = text((bus) => bus.cardType(apid) ?? '')
  const attrs = dir({
    API_ordinalnr: () => opt(zcrypt() && letter() === 'P', ro(() => line(b().adapter(apid)!.ep11?.api ?? ''))),
    FW_version: () => opt(zcrypt() && letter() === 'P', ro(() => line(b().adapter(apid)!.ep11?.fw ?? ''))),
    ap_functions: text(() => hex08(fn())),
    chkstop: text((bus) => (bus.cardChkstop(apid) ? 1 : 0)),
    config: rw(perBus((bus) => line(bus.cardConfig(apid) ? 1 : 0)), store(ref, (bus, buf) => writeCardConfig(bus, apid, buf))),
    depth: text((bus) => bus.adapter(apid)!.depth),
    driver: () => opt(zcrypt(), link('../../../bus/ap/drivers/cex4card')),
    hwtype: text((bus) => bus.hwtype(apid)),
    load: () => opt(zcrypt(), ro(() => '0\n')),
    max_msg_size: ro(() => line(b().adapter(apid)!.maxMsgSize)),
    modalias: ro(() => modalias(b().hwtype(apid))),
    online: () =>
      opt(zcrypt(), rw(() => line(b().cardOnline(apid) ? 1 : 0), store(ref, (bus, buf) => writeCardOnline(bus, apid, buf)))),
    op_modes: () => opt(zcrypt() && letter() === 'P', ro(() => line(b().adapter(apid)!.ep11?.opModes ?? ''))),
    pendingq_count: ro(() => line(sums().pendingq)),
    power: dir({}),
    raw_hwtype: ro(() => line(b().adapter(apid)!.rawType ?? b().adapter(apid)!.gen + 6)),
    request_count: ro(() => line(sums().requests)),
    requestq_count: ro(() => line(sums().requestq)),
    serialnr: () => opt(zcrypt() && (letter() === 'C' || letter() === 'P'), ro(() => line(cardSerial(b(), apid)))),
    subsystem: link('../../../bus/ap'),
    type: () => opt(zcrypt(), type),
    uevent: ro(() => apUevent('card', drv(), b().hwtype(apid), letter())),
  })
  // A queue directory is made at each lookup (a tool reads the attributes
  // of each queue through one: see Vfs.openDir) and is cheap; none is kept.
  const queues = lazyDir(
    () => b().domainIds().map((d) => queueName(apid, d)),
    (name) => {
      const id = queueId(name)
      if (id < 0 || id >>> 16 !== apid) return undefined
      const apqi = id & 0xffff
      return b().hasQueue(apid, apqi) ? queueDir(ref, apid, apqi) : undefined
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

/** A queue device: which one, and the bus it is on. */
interface Queue {
  ref: BusRef
  apid: number
  apqi: number
  /** The bus `driver` was asked of. */
  seen?: ApBus
  driver?: QueueDriver | null
}

/** The queue's driver, asked of the bus once per bus (which entries a queue has depends on it). */
function qDriver(q: Queue): QueueDriver | null {
  const bus = q.ref.bus()
  if (q.seen !== bus) {
    q.seen = bus
    q.driver = bus.queueDriver(q.apid, q.apqi)
  }
  return q.driver ?? null
}

const zq = (q: Queue) => qDriver(q) === 'cex4queue'
const qLetter = (q: Queue) => modeLetter(q.ref.bus().cardFunctions(q.apid))
const qInit = (q: Queue) => q.ref.bus().queueInitialised(q.apid, q.apqi)
const qStore = (q: Queue, fn: (bus: ApBus, apid: number, apqi: number, buf: string) => void) =>
  store(q.ref, (bus, buf) => fn(bus, q.apid, q.apqi, buf))

/**
 * A queue directory's entries, the same for every queue: a host has up to
 * 65,536 queue directories, and each entry is made only when it is looked
 * up (a dir() of closures per queue made that the cost of reading one).
 */
const QUEUE_ENTRIES: Record<string, (q: Queue) => Node | undefined> = {
  ap_functions: (q) => ro(() => line(hex08(q.ref.bus().queueFunctions(q.apid, q.apqi)))),
  chkstop: (q) => ro(() => line(q.ref.bus().cardChkstop(q.apid) ? 1 : 0)),
  config: (q) => ro(() => line(q.ref.bus().cardConfig(q.apid) ? 1 : 0)),
  driver: (q) => {
    const d = qDriver(q)
    return d ? link(`../../../../bus/ap/drivers/${d}`) : undefined
  },
  interrupt: (q) =>
    ro(() => (qInit(q) && q.ref.bus().interrupts() ? 'Interrupts enabled.\n' : 'Interrupts disabled.\n')),
  load: (q) => opt(zq(q), ro(() => '0\n')),
  mkvps: (q) =>
    opt(
      zq(q) && (qLetter(q) === 'C' || qLetter(q) === 'P'),
      ro(() =>
        qLetter(q) === 'C'
          ? ccaMkvps(q.ref.bus().queueHw(q.apid, q.apqi).mk)
          : ep11Mkvps(q.ref.bus().queueHw(q.apid, q.apqi).wk),
      ),
    ),
  online: (q) =>
    opt(zq(q), rw(() => line(q.ref.bus().queueOnline(q.apid, q.apqi) ? 1 : 0), qStore(q, writeQueueOnline))),
  op_modes: (q) => opt(zq(q) && qLetter(q) === 'P', ro(() => line(q.ref.bus().adapter(q.apid)!.ep11?.opModes ?? ''))),
  pendingq_count: (q) => ro(() => line(qInit(q) ? q.ref.bus().counters(q.apid, q.apqi).pendingq : 0)),
  power: () => dir({}),
  request_count: (q) => ro(() => line(qInit(q) ? q.ref.bus().counters(q.apid, q.apqi).requests : '-')),
  requestq_count: (q) => ro(() => line(qInit(q) ? q.ref.bus().counters(q.apid, q.apqi).requestq : 0)),
  reset: (q) => rw(() => 'No Reset Timer set.\n', qStore(q, (bus, apid, apqi) => resetQueue(bus, apid, apqi))),
  se_associate: (q) =>
    opt(
      q.ref.bus().hasFeature('APSB'),
      rw(() => line(seAssociateText(q.ref.bus(), q.apid, q.apqi)), qStore(q, writeSeAssociate)),
    ),
  se_bind: (q) =>
    opt(q.ref.bus().hasFeature('APSB'), rw(() => line(seBindText(q.ref.bus(), q.apid, q.apqi)), qStore(q, writeSeBind))),
  status: (q) =>
    opt(qDriver(q) === 'vfio_ap', ro(() => line(q.ref.bus().vfioStatus(q.apid, q.apqi)))),
  subsystem: () => link('../../../../bus/ap'),
  uevent: (q) =>
    ro(() => apUevent('queue', qDriver(q), q.ref.bus().hwtype(q.apid), qLetter(q))),
}

function queueDir(ref: BusRef, apid: number, apqi: number): DirNode {
  return tableDir(QUEUE_ENTRIES, {ref, apid, apqi})
}
