// fast-check arbitraries for histories: steps over one to three hosts, with
// numbers and masks in every syntax the kernel and the tools take, biased to
// the adapters and domains the presets have so that guests really get queues.

import fc from 'fast-check'

import {Mask} from '../../src/core/mask.js'
import {hex2, hex4} from '../../src/core/model.js'
import type {Corruption} from './corrupt.js'
import {GUESTS, type Op, PRESETS, UUIDS} from './lab.js'

/** Adapters and domains of the presets, so that steps mostly name what a host has. */
const RESOURCES: Record<(typeof PRESETS)[number], {adapters: number[]; domains: number[]}> = {
  default: {adapters: [0, 1, 2, 3, 4, 5], domains: [4, 5, 6, 7]},
  'vfio-ap-doc': {adapters: [5, 6], domains: [4, 0x47, 0xab, 0xff]},
  'ibm-doc': {adapters: [0, 0x0a], domains: [1, 2, 4, 0x1b]},
  'se-guest': {adapters: [3], domains: [0x41, 0x42, 0x43, 0x44]},
}
/** And a few no preset has. */
const OTHER_ADAPTERS = [7, 0x3f, 0xff]
const OTHER_DOMAINS = [0, 0x10, 0x54, 0x55, 0xfe]

/** Skewed to the first ones, so that steps often find the mdev or guest earlier steps made. */
const skewed = (n: number) => fc.oneof(...Array.from({length: n}, (_, i) => ({weight: i === 0 ? 8 : i === 1 ? 3 : 1, arbitrary: fc.constant(i)})))
const uuidIx = skewed(UUIDS.length)
const guestIx = skewed(GUESTS.length)
const uid = fc.oneof({weight: 9, arbitrary: fc.constant(0)}, {weight: 1, arbitrary: fc.constant(1000)})

/** The numbers steps on one host use: mostly its own adapters and domains. */
interface Ids {
  adapter: fc.Arbitrary<number>
  domain: fc.Arbitrary<number>
  bit: fc.Arbitrary<number>
}

function ids(r: {adapters: number[]; domains: number[]}): Ids {
  const adapter = fc.oneof({weight: 6, arbitrary: fc.constantFrom(...r.adapters)}, {weight: 1, arbitrary: fc.constantFrom(...OTHER_ADAPTERS)})
  const domain = fc.oneof({weight: 6, arbitrary: fc.constantFrom(...r.domains)}, {weight: 1, arbitrary: fc.constantFrom(...OTHER_DOMAINS)})
  const bit = fc.oneof({weight: 4, arbitrary: fc.oneof(adapter, domain)}, {weight: 1, arbitrary: fc.integer({min: 0, max: 255})})
  return {adapter, domain, bit}
}

/** A number as kstrtoul and simple_strtoul take it: decimal, 0x hex or 0-prefixed octal. */
const numText = (n: fc.Arbitrary<number>): fc.Arbitrary<string> =>
  fc.tuple(n, fc.nat(2)).map(([v, k]) => (k === 0 ? String(v) : k === 1 ? '0x' + v.toString(16) : v === 0 ? '0' : '0' + v.toString(8)))

const junk = fc.constantFrom('', 'abc', '-1', '256', '0x', '1 2', '99999999999999999999999', '+', '0xzz')

/** Text for an assign_* or --adapter/--domain value: mostly good numbers, some junk. */
const idText = (n: fc.Arbitrary<number>) => fc.oneof({weight: 9, arbitrary: numText(n)}, {weight: 1, arbitrary: junk})

/** A mask write in every syntax ap_parse_mask_str takes: a hex mask, or +/- edits of numbers and ranges. */
export function maskText({bit}: Ids): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.constantFrom('+', '-'), numText(bit), fc.option(numText(bit), {freq: 4})).map(([s, a, b]) => (b === null ? s + a : `${s}${a}-${b}`))
  return fc.oneof(
    {weight: 3, arbitrary: fc.array(bit, {maxLength: 6}).map((bits) => '0x' + Mask.of(bits).hex())},
    // A short hex mask: its digits cover the first numbers only.
    {weight: 1, arbitrary: fc.tuple(fc.array(bit, {maxLength: 4}), fc.integer({min: 1, max: 8})).map(([bits, n]) => '0x' + Mask.of(bits).hex().slice(0, n))},
    {weight: 5, arbitrary: fc.array(edit, {minLength: 1, maxLength: 4}).map((items) => items.join(','))},
    {weight: 1, arbitrary: fc.constantFrom('0x' + 'f'.repeat(64), '0x0', '-0-255', '+0-255')},
    {weight: 1, arbitrary: junk},
  )
}

/** A chzdev apmask=/aqmask= value: ranges, +/- edits, hex. */
const zdevMask = ({bit}: Ids): fc.Arbitrary<string> =>
  fc.oneof(
    fc.array(fc.tuple(numText(bit), fc.option(numText(bit))).map(([a, b]) => (b === null ? a : `${a}-${b}`)), {minLength: 1, maxLength: 3}).map((x) => x.join(',')),
    fc.array(fc.tuple(fc.constantFrom('+', '-'), numText(bit)).map(([s, a]) => s + a), {minLength: 1, maxLength: 3}).map((x) => x.join(',')),
    fc.constantFrom('0-255', '', 'x'),
  )

const card = ({adapter}: Ids) => adapter.map((a) => hex2(a))
const apqn = ({adapter, domain}: Ids) => fc.tuple(adapter, domain).map(([a, d]) => `${hex2(a)}.${hex4(d)}`)
const device = (x: Ids) => fc.oneof(card(x), apqn(x), x.adapter.map((a) => 'card' + hex2(a)))
const mdevPath = (u: number) => `/sys/devices/vfio_ap/matrix/${UUIDS[u]}`
const apConfig = ({adapter, domain}: Ids) =>
  fc.tuple(fc.array(adapter, {maxLength: 3}), fc.array(domain, {maxLength: 3}), fc.array(domain, {maxLength: 3})).map(
    ([a, d, c]) => `0x${Mask.of(a).hex()},0x${Mask.of(d).hex()},0x${Mask.of(c).hex()}`,
  )

/** A path and text `echo` writes on a host (the kernel's store functions). */
function hostWrite(x: Ids): fc.Arbitrary<{path: string; text: string}> {
  return fc.oneof(
    {weight: 6, arbitrary: fc.record({path: fc.constantFrom('/sys/bus/ap/apmask', '/sys/bus/ap/aqmask'), text: maskText(x)})},
    {
      weight: 2,
      arbitrary: fc.record({
        path: fc.constantFrom(...['vfio_ap', 'cex4queue'].flatMap((d) => [`/sys/bus/ap/drivers/${d}/bind`, `/sys/bus/ap/drivers/${d}/unbind`])),
        text: apqn(x),
      }),
    },
    {weight: 1, arbitrary: fc.record({path: fc.tuple(card(x), fc.constantFrom('online', 'config')).map(([c, a]) => `/sys/devices/ap/card${c}/${a}`), text: fc.constantFrom('0', '1', '2')})},
    {weight: 1, arbitrary: fc.record({path: apqn(x).map((q) => `/sys/devices/ap/card${q.slice(0, 2)}/${q}/online`), text: fc.constantFrom('0', '1')})},
    {
      weight: 3,
      arbitrary: fc
        .tuple(uuidIx, fc.constantFrom('adapter', 'domain', 'control_domain'), fc.boolean())
        .chain(([u, part, un]) => idText(part === 'adapter' ? x.adapter : x.domain).map((text) => ({path: `${mdevPath(u)}/${un ? 'unassign' : 'assign'}_${part}`, text}))),
    },
    {weight: 2, arbitrary: fc.record({path: uuidIx.map((u) => `${mdevPath(u)}/ap_config`), text: apConfig(x)})},
    {weight: 1, arbitrary: fc.record({path: uuidIx.map((u) => `${mdevPath(u)}/remove`), text: fc.constantFrom('1', '0', 'x')})},
    {
      weight: 1,
      arbitrary: fc.record({path: fc.constant('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create'), text: uuidIx.map((u) => UUIDS[u])}),
    },
    {
      weight: 1,
      arbitrary: fc.record({path: fc.constantFrom('/sys/bus/ap/ap_domain', '/sys/bus/ap/scans', '/sys/bus/ap/config_time'), text: numText(fc.integer({min: 0, max: 300}))}),
    },
  )
}

/** What `aplab guest exec` runs: writes that try to reach the host, and reads. */
function guestCmd(x: Ids): fc.Arbitrary<string[]> {
  return fc.oneof(
    {weight: 4, arbitrary: fc.tuple(fc.constantFrom('--config-off', '--config-on', '-e', '-d'), device(x)).map(([o, d]) => ['chzcrypt', o, d])},
    {weight: 1, arbitrary: fc.tuple(fc.constantFrom('-e', '-d'), device(x), device(x)).map(([o, a, b]) => ['chzcrypt', o, a, b])},
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.tuple(fc.constantFrom('/sys/bus/ap/apmask', '/sys/bus/ap/aqmask'), maskText(x)),
          fc.tuple(fc.tuple(card(x), fc.constantFrom('online', 'config')).map(([c, a]) => `/sys/devices/ap/card${c}/${a}`), fc.constantFrom('0', '1')),
          fc.tuple(fc.constantFrom('/sys/bus/ap/drivers/cex4queue/unbind', '/sys/bus/ap/drivers/cex4queue/bind'), apqn(x)),
        )
        .map(([p, t]) => ['aplab', 'sysfs', 'write', p, t]),
    },
    {weight: 1, arbitrary: fc.constantFrom<string[]>(['lszcrypt', '-V'], ['cat', '/sys/bus/ap/ap_adapter_mask'], ['dmesg'])},
  )
}

const CPUS = ['host,ap=on,apqci=on,apft=on,apqi=on', 'host,ap=on,apqci=on,apft=on', 'host,ap=on,apqci=off,apft=on', 'host,ap=off', 'z13,ap=on,apqci=on,apft=on']
// Without apqi, which a host without AP interrupts (se-guest) does not offer.
const GOOD_CPU = CPUS[1]
const vfioDevice = (u: number, id: string) => `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${UUIDS[u]},id=${id}`

const startArgs: fc.Arbitrary<string[]> = fc.oneof(
  {weight: 6, arbitrary: fc.tuple(fc.constantFrom(...CPUS), uuidIx).map(([cpu, u]) => ['-cpu', cpu, '-device', vfioDevice(u, 'vfio0')])},
  {weight: 1, arbitrary: fc.constantFrom(...CPUS).map((cpu) => ['-cpu', cpu])},
  {weight: 1, arbitrary: fc.constant([] as string[])},
)

const mdevctlArgv = ({adapter, domain}: Ids): fc.Arbitrary<string[]> =>
  fc.oneof(
    uuidIx.chain((u) =>
      fc.constantFrom<string[]>(
        ['define', '-u', UUIDS[u], '--auto'],
        ['define', '-u', UUIDS[u], '-p', 'matrix', '-t', 'vfio_ap-passthrough', '--auto'],
        ['start', '-u', UUIDS[u]],
        ['stop', '-u', UUIDS[u]],
        ['undefine', '-u', UUIDS[u]],
      ),
    ),
    fc
      .tuple(uuidIx, fc.constantFrom('assign_adapter', 'assign_domain', 'assign_control_domain'), adapter, domain)
      .map(([u, attr, a, d]) => ['modify', '-u', UUIDS[u], `--addattr=${attr}`, `--value=0x${(attr === 'assign_adapter' ? a : d).toString(16)}`]),
  )

function corruption(h: number, x: Ids): fc.Arbitrary<Corruption> {
  return fc.oneof(
    fc.record({kind: fc.constant('share' as const), h: fc.constant(h), from: fc.nat(3), to: fc.nat(3)}),
    fc.record({kind: fc.constant('reserved' as const), h: fc.constant(h), m: fc.nat(3)}),
    fc.record({kind: fc.constant('shadow' as const), h: fc.constant(h), m: fc.nat(3), adapter: x.adapter}),
    fc.record({kind: fc.constant('two-guests' as const), h: fc.constant(h), a: fc.nat(3), b: fc.nat(3)}),
    fc.record({kind: fc.constant('missing-mdev' as const), h: fc.constant(h), g: fc.nat(3)}),
    fc.record({kind: fc.constant('steal' as const), h: fc.constant(h)}),
    fc.record({kind: fc.constant('unplug' as const), h: fc.constant(h), m: fc.nat(3)}),
    fc.record({kind: fc.constant('schema' as const), h: fc.constant(h), what: fc.constantFrom('yaml', 'version', 'bad-range', 'bad-uuid', 'dup-guest', 'dup-host', 'proto', 'aliases')}),
    fc.record({kind: fc.constant('benign' as const), h: fc.constant(h), configTime: fc.integer({min: 5, max: 120})}),
  )
}

/** Every kind of step on host h, with how often it comes. */
function steps(h: number, hosts: number, x: Ids): Array<{weight: number; arbitrary: fc.Arbitrary<Op>}> {
  const k = <K extends Op['k']>(kind: K) => fc.constant(kind)
  return [
    {weight: 10, arbitrary: fc.tuple(hostWrite(x), uid).map(([w, u]): Op => ({k: 'sysfs', h, path: w.path, text: w.text, uid: u}))},
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.subarray(['-a', '-p']), fc.option(zdevMask(x)), fc.option(zdevMask(x)), uid)
        .filter(([, ap, aq]) => ap !== null || aq !== null)
        .map(([where, ap, aq, u]): Op => ({
          k: 'chzdev',
          h,
          argv: ['-t', 'ap', ...where, ...(ap === null ? [] : [`apmask=${ap}`]), ...(aq === null ? [] : [`aqmask=${aq}`])],
          uid: u,
        })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom('--config-off', '--config-on', '-e', '-d'), device(x), uid).map(([o, d, u]): Op => ({k: 'chzcrypt', h, argv: [o, d], uid: u})),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        k: k('hw'),
        h: fc.constant(h),
        what: fc.constantFrom('adapter-add', 'adapter-remove', 'domain-add', 'domain-remove'),
        id: fc.oneof(x.adapter, x.domain),
        control: fc.boolean(),
        type: fc.constantFrom('CEX8C', 'CEX7A', 'CEX5P', 'CEX9X'),
      }),
    },
    {weight: 2, arbitrary: fc.record({k: k('modprobe'), h: fc.constant(h), remove: fc.boolean(), uid})},
    {weight: 4, arbitrary: fc.record({k: k('mdev-create'), h: fc.constant(h), u: uuidIx, uid})},
    {weight: 1, arbitrary: fc.record({k: k('mdev-remove'), h: fc.constant(h), u: uuidIx, uid})},
    {weight: 1, arbitrary: fc.record({k: k('mdev-start'), h: fc.constant(h), u: uuidIx, stop: fc.boolean(), uid})},
    {
      weight: 8,
      arbitrary: fc.record({
        k: k('mdev-assign'),
        h: fc.constant(h),
        u: uuidIx,
        unassign: fc.boolean(),
        adapter: fc.array(idText(x.adapter), {maxLength: 2}),
        domain: fc.array(idText(x.domain), {maxLength: 2}),
        control: fc.array(idText(x.domain), {maxLength: 1}),
        uid,
      }),
    },
    {weight: 2, arbitrary: fc.record({k: k('mdevctl'), h: fc.constant(h), argv: mdevctlArgv(x)})},
    {weight: 6, arbitrary: fc.record({k: k('guest-start'), h: fc.constant(h), g: guestIx, args: startArgs, libvirt: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))), autostart: fc.boolean(), uid})},
    {weight: 2, arbitrary: fc.record({k: k('guest-stop'), g: guestIx})},
    {weight: 1, arbitrary: fc.record({k: k('guest-reset'), g: guestIx})},
    {
      weight: 2,
      arbitrary: fc.record({k: k('device-add'), g: guestIx, spec: fc.tuple(uuidIx, fc.constantFrom('vfio0', 'vfio1')).map(([u, id]) => vfioDevice(u, id)), uid}),
    },
    {weight: 2, arbitrary: fc.record({k: k('device-del'), g: guestIx, id: fc.constantFrom('vfio0', 'vfio1', 'hostdev0')})},
    {weight: 5, arbitrary: fc.record({k: k('guest-exec'), g: guestIx, cmd: guestCmd(x), uid})},
    {weight: 2, arbitrary: fc.record({k: k('migrate'), g: guestIx, to: fc.nat(Math.max(0, hosts - 1))})},
    {weight: 1, arbitrary: fc.record({k: k('reboot'), h: fc.constant(h), uid})},
    {weight: 2, arbitrary: fc.record({k: k('corrupt'), c: corruption(h, x)})},
  ]
}

/**
 * Pass-through set up the way the documentation does it, so that histories
 * reach guests that hold queues: vfio_ap loaded, some adapters and domains
 * freed from the host's masks, an mdev with them, a guest started on it.
 */
function recipe(h: number, r: {adapters: number[]; domains: number[]}): fc.Arbitrary<Op[]> {
  return fc
    .tuple(fc.subarray(r.adapters, {minLength: 1}), fc.subarray(r.domains, {minLength: 1}), uuidIx, guestIx, fc.boolean())
    .map(([as, ds, u, g, relative]): Op[] => [
      {k: 'modprobe', h, remove: false, uid: 0},
      {k: 'sysfs', h, path: '/sys/bus/ap/apmask', text: relative ? as.map((a) => `-${a}`).join(',') : '0x' + Mask.full().andNot(Mask.of(as)).hex(), uid: 0},
      {k: 'sysfs', h, path: '/sys/bus/ap/aqmask', text: relative ? ds.map((d) => `-0x${d.toString(16)}`).join(',') : '0x' + Mask.full().andNot(Mask.of(ds)).hex(), uid: 0},
      {k: 'mdev-create', h, u, uid: 0},
      {k: 'mdev-assign', h, u, unassign: false, adapter: as.map(String), domain: ds.map(String), control: ds.slice(0, 1).map(String), uid: 0},
      {k: 'guest-start', h, g, args: ['-cpu', GOOD_CPU, '-device', vfioDevice(u, 'vfio0')], libvirt: false, autostart: true, uid: 0},
    ])
}

/** Live migration as it has to be done with a vfio-ap device: unplug, migrate, plug in an mdev of the target. */
function moveGuest(hosts: number): fc.Arbitrary<Op[]> {
  return fc.tuple(guestIx, fc.nat(Math.max(0, hosts - 1)), uuidIx).map(([g, to, u]): Op[] => [
    {k: 'device-del', g, id: 'vfio0'},
    {k: 'migrate', g, to},
    {k: 'device-add', g, spec: vfioDevice(u, 'vfio0'), uid: 0},
  ])
}

export interface HistoryOptions {
  /** Leave out steps a filter refuses (a known finding another change fixes). */
  exclude?: (op: Op) => boolean
  /** Most chunks (one step, or a pass-through recipe) in a history. */
  maxChunks?: number
}

export interface History {
  presets: string[]
  ops: Op[]
}

/** One to three hosts from the small presets, then a history of steps. */
export function history(o: HistoryOptions = {}): fc.Arbitrary<History> {
  return fc.array(fc.constantFrom(...PRESETS), {minLength: 1, maxLength: 3}).chain((presets) => {
    const res = presets.map((p) => RESOURCES[p])
    const perHost = res.map((r, h) => {
      const x = ids(r)
      return fc.oneof(
        {weight: 10, arbitrary: fc.oneof(...steps(h, presets.length, x)).map((op) => [op])},
        {weight: 1, arbitrary: recipe(h, r)},
        {weight: 1, arbitrary: moveGuest(presets.length)},
      )
    })
    const chunk = fc.oneof(...perHost)
    // Most histories begin with a guest holding queues on the first host.
    const first = fc.option(recipe(0, res[0]), {freq: 4}).map((ops) => ops ?? [])
    return fc.record({
      presets: fc.constant(presets as string[]),
      ops: fc
        .tuple(first, fc.array(chunk, {minLength: 1, maxLength: o.maxChunks ?? 25, size: 'max'}))
        .map(([start, chunks]) => [start, ...chunks].flat().filter((op) => !o.exclude?.(op))),
    })
  })
}
