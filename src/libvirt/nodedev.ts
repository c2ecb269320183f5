// libvirt's node devices for AP (node_device_udev.c, node_device_driver.c):
// the cards, queues and matrix read from sysfs as udev reports them, and
// the vfio_ap mdevs, active ones from sysfs and defined ones through
// mdevctl, which libvirt runs for every change (define, start, stop,
// undefine, autostart), so a device defined by virsh is mdevctl's and the
// other way round, with the same ap-check rules.

import type {Host} from '../core/model.js'
import {attachedGuest, findMdev} from '../core/vfio.js'
import {hostVfs} from '../sysfs/host.js'
import {hostCallout} from '../tools/apcheck.js'
import {Stdio} from '../tools/libc.js'
import {runMdevctl} from '../tools/mdevctl/main.js'
import {parseUuid} from './domain.js'
import {VirError} from './errors.js'
import {type Out, child, children, el, formatXml, parseXml, textEl} from './xml.js'

export type NodeCap =
  | {type: 'system'}
  | {type: 'ap_card'; adapter: number}
  | {type: 'ap_queue'; adapter: number; domain: number}
  | {type: 'ap_matrix'; typeName: string; deviceApi: string; available: number}
  | {type: 'mdev'; uuid: string; active: MdevConfig | null; defined: MdevConfig | null; group: number}

/** An mdev's configuration as mdevctl reports it: the running device's (active) or its definition. */
export interface MdevConfig {
  mdevType: string
  attrs: Array<[string, string]>
}

export interface NodeDev {
  name: string
  parent: string | null
  path?: string
  driver?: string
  cap: NodeCap
  active: boolean
  persistent: boolean
  autostart: boolean
}

/** The capability names `nodedev-list --cap` knows (virNodeDevCapType). */
export const CAP_NAMES = [
  'system', 'pci', 'usb_device', 'usb', 'net', 'scsi_host', 'scsi_target', 'scsi', 'storage', 'fc_host', 'vports', 'scsi_generic',
  'drm', 'mdev_types', 'mdev', 'ccw', 'css', 'vdpa', 'ap_card', 'ap_queue', 'ap_matrix', 'vpd',
]

const MATRIX = '/sys/devices/vfio_ap/matrix'
const TYPE_DIR = `${MATRIX}/mdev_supported_types/vfio_ap-passthrough`

/** nodeDeviceGenerateName: mdev_<uuid>_<parent address>, non-alphanumerics as '_'. */
export const mdevName = (uuid: string): string => `mdev_${uuid}_matrix`.replace(/[^A-Za-z0-9]/g, '_')

/**
 * mdevctl as libvirt runs it (nodeDeviceGetMdevctlCommand: options as
 * --name=value pairs): exit code, stdout and stderr.
 */
export function mdevctl(host: Host, argv: string[], json?: string, newUuid?: () => string): {code: number; stdout: string; stderr: string} {
  const vfs = hostVfs(host)
  const io = new Stdio(true)
  const code = runMdevctl(argv, {
    fs: vfs,
    root: '',
    prog: 'mdevctl',
    callout: hostCallout(vfs),
    newUuid: newUuid ?? (() => '00000000-0000-0000-0000-000000000000'),
    readJsonFile: () => new TextEncoder().encode(json ?? ''),
  }, io)
  return {code, stdout: io.stdout, stderr: io.stderr}
}

interface Listed extends MdevConfig {
  uuid: string
  start: string
}

/**
 * `mdevctl list [--defined] --dumpjson`, the mdevs of parent matrix: what
 * nodeDeviceUpdateMediatedDevices reads into each mdev's defined and active
 * configuration.
 */
function listedMdevs(host: Host, defined: boolean): Listed[] {
  const r = mdevctl(host, ['list', '--dumpjson', ...(defined ? ['--defined'] : [])])
  if (r.code !== 0 || r.stdout.trim() === '') return []
  const data = JSON.parse(r.stdout) as Array<Record<string, Array<Record<string, {mdev_type?: string; start?: string; attrs?: Array<Record<string, string>>}>>>>
  const out: Listed[] = []
  for (const parent of data)
    for (const dev of parent.matrix ?? [])
      for (const [uuid, c] of Object.entries(dev))
        out.push({uuid, mdevType: c.mdev_type ?? '', start: c.start ?? 'manual', attrs: (c.attrs ?? []).flatMap((a) => Object.entries(a))})
  return out
}

const driverOf = (host: Host, path: string): string | undefined => {
  const v = hostVfs(host)
  try {
    const l = v.readlink(`${path}/driver`)
    return l.slice(l.lastIndexOf('/') + 1)
  } catch {
    return undefined
  }
}

/** Every node device of the host that libvirt shows for AP, active and defined. */
export function nodeDevices(host: Host): NodeDev[] {
  const v = hostVfs(host)
  // udevSetupSystemDev: active, persistent and autostarted.
  const devs: NodeDev[] = [{name: 'computer', parent: null, cap: {type: 'system'}, active: true, persistent: true, autostart: true}]
  const base = (name: string, parent: string, path: string, cap: NodeCap): NodeDev => {
    const driver = driverOf(host, path)
    return {name, parent, path, ...(driver ? {driver} : {}), cap, active: true, persistent: false, autostart: false}
  }
  let cards: string[] = []
  try {
    cards = v.readdir('/sys/devices/ap').filter((c) => /^card[0-9a-f]{2}$/.test(c))
  } catch {
    cards = []
  }
  for (const c of cards) {
    const a = parseInt(c.slice(4), 16)
    const cardDev = `ap_${c}`
    devs.push(base(cardDev, 'computer', `/sys/devices/ap/${c}`, {type: 'ap_card', adapter: a}))
    for (const q of v.readdir(`/sys/devices/ap/${c}`).filter((x) => /^[0-9a-f]{2}\.[0-9a-f]{4}$/.test(x)))
      devs.push(base(`ap_${q.replace('.', '_')}`, cardDev, `/sys/devices/ap/${c}/${q}`, {type: 'ap_queue', adapter: a, domain: parseInt(q.slice(3), 16)}))
  }
  const matrix = v.isDir(MATRIX)
  if (matrix)
    devs.push(
      base('ap_matrix', 'computer', MATRIX, {
        type: 'ap_matrix',
        typeName: (v.readOrNull(`${TYPE_DIR}/name`) ?? '').trim(),
        deviceApi: (v.readOrNull(`${TYPE_DIR}/device_api`) ?? '').trim(),
        available: Number((v.readOrNull(`${TYPE_DIR}/available_instances`) ?? '0').trim()),
      }),
    )
  const defined = listedMdevs(host, true)
  const running = listedMdevs(host, false)
  const config = (c: Listed | undefined): MdevConfig | null => (c ? {mdevType: c.mdevType, attrs: c.attrs} : null)
  const seen = new Set<string>()
  for (const m of host.runtime.mdevs) {
    const d = defined.find((x) => x.uuid === m.uuid)
    seen.add(m.uuid)
    // udev gives the type (the mdev_type link), mdevctl the running device's attributes.
    const active = config(running.find((x) => x.uuid === m.uuid)) ?? {mdevType: 'vfio_ap-passthrough', attrs: []}
    devs.push({
      name: mdevName(m.uuid),
      parent: 'ap_matrix',
      path: `${MATRIX}/${m.uuid}`,
      driver: 'vfio_mdev',
      cap: {type: 'mdev', uuid: m.uuid, active, defined: config(d), group: m.group},
      active: true,
      persistent: d !== undefined,
      autostart: d?.start === 'auto',
    })
  }
  for (const d of defined)
    if (!seen.has(d.uuid))
      devs.push({
        name: mdevName(d.uuid),
        parent: matrix ? 'ap_matrix' : 'computer',
        cap: {type: 'mdev', uuid: d.uuid, active: null, defined: config(d), group: 0},
        active: false,
        persistent: true,
        autostart: d.start === 'auto',
      })
  return devs
}

const byName = (a: string, b: string): number => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  return x < y ? -1 : x > y ? 1 : 0
}

export function findNodeDev(host: Host, name: string): NodeDev {
  const d = nodeDevices(host).find((x) => x.name === name)
  if (!d) throw new VirError('NO_NODE_DEVICE', `no node device with matching name '${name}'`)
  return d
}

/** The capability names a device answers to in `--cap` (the matrix has a nested mdev_types). */
const capsOf = (d: NodeDev): string[] => (d.cap.type === 'ap_matrix' ? ['ap_matrix', 'mdev_types'] : [d.cap.type])

export interface ListOptions {
  caps: string[] | null
  which: 'active' | 'inactive' | 'all'
}

export function listNodeDevices(host: Host, o: ListOptions): NodeDev[] {
  return nodeDevices(host)
    .filter((d) => (o.which === 'all' ? true : o.which === 'active' ? d.active : !d.active))
    .filter((d) => o.caps === null || capsOf(d).some((c) => o.caps!.includes(c)))
    .sort((a, b) => byName(a.name, b.name))
}

/** vsh.c vshTreePrint: roots bare, children as "+- NAME" under "|" guide lines. */
export function treeText(devs: readonly NodeDev[]): string {
  let out = ''
  const print = (i: number, last: number, root: boolean, indent: string): void => {
    const dev = devs[i]
    out += `${indent}${root ? '' : '+- '}${dev.name}\n`
    const ind = root ? indent : indent + (i === last ? ' ' : '|') + ' '
    let nextLast = -1
    devs.forEach((d, j) => {
      if (d.parent === dev.name) nextLast = j
    })
    if (nextLast !== -1) out += `${ind}  |\n`
    devs.forEach((d, j) => {
      if (d.parent === dev.name) print(j, nextLast, false, ind + '  ')
    })
    if (nextLast === -1 && i === last) out += `${ind}\n`
  }
  devs.forEach((d, i) => {
    if (d.parent === null) print(i, i, true, '')
  })
  return out
}

const hex = (n: number, w: number): string => '0x' + n.toString(16).padStart(w, '0')

/**
 * nodedev-dumpxml (virNodeDeviceDefFormat). The inactive form (--inactive,
 * or any device that is not active) has no path, devnode or driver, and an
 * mdev's defined configuration instead of its running one.
 */
export function nodeDevXml(d: NodeDev, inactive: boolean): string {
  const kids: Out[] = [textEl('name', d.name)]
  const live = d.active && !inactive
  if (live && d.path) kids.push(textEl('path', d.path))
  if (d.parent) kids.push(textEl('parent', d.parent))
  if (live && d.driver) kids.push(el('driver', [], [textEl('name', d.driver)]))
  const c = d.cap
  if (c.type === 'system')
    // No DMI data on s390x (udevGetDMIData is x86 only): a zero UUID and an empty firmware element.
    kids.push({name: 'capability', attrs: [['type', 'system']], children: [el('hardware', [], [textEl('uuid', ZERO_UUID)]), EMPTY_FIRMWARE]})
  else if (c.type === 'ap_card') kids.push(el('capability', [['type', 'ap_card']], [textEl('ap-adapter', hex(c.adapter, 2))]))
  else if (c.type === 'ap_queue') kids.push(el('capability', [['type', 'ap_queue']], [textEl('ap-adapter', hex(c.adapter, 2)), textEl('ap-domain', hex(c.domain, 4))]))
  else if (c.type === 'ap_matrix')
    kids.push(
      el('capability', [['type', 'ap_matrix']], [
        el('capability', [['type', 'mdev_types']], [
          el('type', [['id', 'vfio_ap-passthrough']], [
            ...(c.typeName ? [textEl('name', c.typeName)] : []),
            textEl('deviceAPI', c.deviceApi),
            textEl('availableInstances', c.available),
          ]),
        ]),
      ]),
    )
  else {
    const conf = (live ? c.active : c.defined) ?? {mdevType: 'vfio_ap-passthrough', attrs: []}
    kids.push(
      el('capability', [['type', 'mdev']], [
        el('type', [['id', conf.mdevType]]),
        textEl('uuid', c.uuid),
        textEl('parent_addr', 'matrix'),
        el('iommuGroup', [['number', c.group]]),
        ...conf.attrs.map(([n, v]): Out => ({name: 'attr', attrs: [['name', n], ['value', v]], raw: true})),
      ]),
    )
  }
  return formatXml(el('device', [], kids))
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000'
const EMPTY_FIRMWARE: Out = {name: 'firmware', open: true}

// ---------------------------------------------------------------------------
// Definitions (virNodeDeviceDefParse, nodeDeviceDefValidateMdev)

export interface MdevDef {
  parent: string
  uuid: string | null
  mdevType: string
  attrs: Array<[string, string]>
}

export function parseNodeDevXml(host: Host, text: string): MdevDef {
  const root = parseXml(text, '(node_device_definition)')
  if (root.name !== 'device') throw new VirError('XML_ERROR', `expecting root element of 'device', not '${root.name}'`)
  const name = child(root, 'name')?.text.trim() || 'new device'
  const caps = children(root, 'capability')
  if (caps.length === 0) throw new VirError('XML_ERROR', `no device capabilities for '${name}'`)
  const cap = caps[0]
  if (cap.attrs.type === undefined) throw new VirError('XML_ERROR', `missing capability type`)
  if (!CAP_NAMES.includes(cap.attrs.type)) throw new VirError('XML_ERROR', `unknown capability type '${cap.attrs.type}'`)
  if (cap.attrs.type !== 'mdev') throw new VirError('CONFIG_UNSUPPORTED', 'Unsupported device type')
  const mdevType = child(cap, 'type')?.attrs.id
  if (!mdevType) throw new VirError('XML_ERROR', `missing type id attribute for '${name}'`)
  let uuid: string | null = null
  const u = child(cap, 'uuid')
  if (u) {
    uuid = parseUuid(u.text)
    if (uuid === null) throw new VirError('INTERNAL_ERROR', `Unable to parse uuid '${u.text.trim()}'`)
  }
  const attrs = children(cap, 'attr').map((a): [string, string] => {
    if (a.attrs.name === undefined || a.attrs.value === undefined) throw new VirError('XML_ERROR', `mdev attribute missing name or value`)
    return [a.attrs.name, a.attrs.value]
  })
  const parent = child(root, 'parent')?.text.trim()
  if (!parent) throw new VirError('CONFIG_UNSUPPORTED', 'missing parent device')
  const p = nodeDevices(host).find((d) => d.name === parent)
  if (!p) throw new VirError('CONFIG_UNSUPPORTED', `invalid parent device '${parent}'`)
  if (p.cap.type !== 'ap_matrix') throw new VirError('PARSE_FAILED', `Unable to find address for parent device '${parent}'`)
  return {parent, uuid, mdevType, attrs}
}

/**
 * nodeDeviceDefToMdevctlConfig: the JSON libvirt hands mdevctl. A parsed
 * definition is never autostarted (the XML has no such element; autostart
 * is virNodeDeviceSetAutostart's), so a redefinition makes it manual again.
 */
export function mdevctlJson(d: MdevDef): string {
  return JSON.stringify({mdev_type: d.mdevType, start: 'manual', ...(d.attrs.length ? {attrs: d.attrs.map(([n, v]) => ({[n]: v}))} : {})})
}

const mdevctlError = (r: {stderr: string}): string => r.stderr.replace(/\n+$/, '') || 'Unknown error'

/** nodedev-define: mdevctl define (or modify --defined for a definition that exists). The device's name. */
export function defineMdev(host: Host, text: string, newUuid: () => string): string {
  const d = parseNodeDevXml(host, text)
  const existing = d.uuid ? nodeDevices(host).find((x) => x.cap.type === 'mdev' && x.cap.uuid === d.uuid && x.persistent) : undefined
  if (existing) {
    const r = mdevctl(host, ['modify', '--parent=matrix', '--jsonfile=/dev/stdin', `--uuid=${d.uuid}`, '--defined'], mdevctlJson(d))
    if (r.code !== 0) throw new VirError('INTERNAL_ERROR', `Unable to modify mediated device: ${mdevctlError(r)}`)
    return existing.name
  }
  const r = mdevctl(host, ['define', '--parent=matrix', '--jsonfile=/dev/stdin', ...(d.uuid ? [`--uuid=${d.uuid}`] : [])], mdevctlJson(d), newUuid)
  if (r.code !== 0) throw new VirError('INTERNAL_ERROR', `Unable to define mediated device: ${mdevctlError(r)}`)
  return mdevName(d.uuid ?? r.stdout.trim())
}

/** nodedev-create: a transient mdev, started at once. */
export function createMdev(host: Host, text: string, newUuid: () => string): string {
  const d = parseNodeDevXml(host, text)
  const r = mdevctl(host, ['start', '--parent=matrix', '--jsonfile=/dev/stdin', ...(d.uuid ? [`--uuid=${d.uuid}`] : [])], mdevctlJson(d), newUuid)
  if (r.code !== 0) throw new VirError('INTERNAL_ERROR', `Unable to start mediated device: ${mdevctlError(r)}`)
  return mdevName(d.uuid ?? r.stdout.trim())
}

const asMdev = (d: NodeDev, code: 'CONFIG_UNSUPPORTED' | 'OPERATION_UNSUPPORTED'): Extract<NodeCap, {type: 'mdev'}> => {
  if (d.cap.type !== 'mdev') throw new VirError(code, 'Unsupported device type')
  return d.cap
}

export function startMdev(host: Host, d: NodeDev): void {
  if (d.active) throw new VirError('OPERATION_INVALID', 'Device is already active')
  const c = asMdev(d, 'CONFIG_UNSUPPORTED')
  const r = mdevctl(host, ['start', `--uuid=${c.uuid}`])
  if (r.code !== 0) throw new VirError('INTERNAL_ERROR', `Unable to create mediated device: ${mdevctlError(r)}`)
}

export function destroyMdev(host: Host, d: NodeDev): void {
  const c = asMdev(d, 'CONFIG_UNSUPPORTED')
  if (!d.active) throw new VirError('OPERATION_INVALID', `Device '${d.name}' is not active`)
  const m = findMdev(host, c.uuid)
  if (m && attachedGuest(host, m.uuid)) throw new VirError('INTERNAL_ERROR', `Unable to destroy '${d.name}': device in use`)
  const r = mdevctl(host, ['stop', `--uuid=${c.uuid}`])
  if (r.code !== 0) throw new VirError('INTERNAL_ERROR', `Unable to destroy '${d.name}': ${mdevctlError(r)}`)
}

export function undefineMdev(host: Host, d: NodeDev): void {
  const c = asMdev(d, 'CONFIG_UNSUPPORTED')
  if (!d.persistent) throw new VirError('OPERATION_INVALID', `Node device '${d.name}' is not defined`)
  const r = mdevctl(host, ['undefine', `--uuid=${c.uuid}`])
  if (r.code !== 0) throw new VirError('INTERNAL_ERROR', `Unable to undefine mediated device: ${mdevctlError(r)}`)
}

export function autostartMdev(host: Host, d: NodeDev, on: boolean): void {
  const c = asMdev(d, 'OPERATION_UNSUPPORTED')
  if (!d.persistent) throw new VirError('OPERATION_INVALID', 'cannot set autostart for transient device')
  if (d.autostart === on) return
  const r = mdevctl(host, ['modify', '--uuid', c.uuid, on ? '--auto' : '--manual'])
  if (r.code !== 0) throw new VirError('INTERNAL_ERROR', `Unable to set autostart on '${d.name}': ${r.stderr.replace(/\n+$/, '') || 'Unknown Error'}`)
}
