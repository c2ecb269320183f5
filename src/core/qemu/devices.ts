// qdev as far as aplab models it: a -device / device_add as a QemuDevice,
// device type aliases, the errors qdev gives when creating one
// (system/qdev-monitor.c qdev_device_add_from_qdict), the creation order,
// and the mdev UUID of a vfio-ap sysfsdev path. Pure. Split out of
// src/core/qemu.ts.

import {own, table} from '../table.js'
import {type JVal, qnumToString} from './qobject.js'
import {busFull, busNotFound, deviceCantGoOnBus, duplicateDeviceId, ID_HINT, ID_NOT_IDENTIFIER, idWellformed, invalidParameterValue, missingParameter, noApBus, notValidDeviceModel, propertyNotFound} from './texts.js'

// ---------------------------------------------------------------------------
// Devices

export interface QemuDevice {
  /** The driver (device type or alias) as given; '' when none was given. */
  driver: string
  id?: string
  /** bus=..., when given (not a property; qdev takes it out). */
  bus?: string
  /** Every other key=value, the last one winning, values as strings. */
  props: Record<string, string>
  /** Given as -device {"driver": ...} (JSON, as libvirt does). */
  json?: boolean
  /** QEMU's message location for this device: "-device <arg>" as on the command line. */
  location?: string
}

/** Aliases qdev resolves on s390x (system/qdev-monitor.c qdev_alias_table, CCW transport). */
const DEVICE_ALIASES: Record<string, string> = table({
  ac97: 'AC97',
  'e1000-82540em': 'e1000',
  es1370: 'ES1370',
  ahci: 'ich9-ahci',
  lsi: 'lsi53c895a',
  'virtio-9p': 'virtio-9p-ccw',
  'virtio-balloon': 'virtio-balloon-ccw',
  'virtio-blk': 'virtio-blk-ccw',
  'virtio-gpu': 'virtio-gpu-ccw',
  'virtio-input-host': 'virtio-input-host-ccw',
  'virtio-keyboard': 'virtio-keyboard-ccw',
  'virtio-mouse': 'virtio-mouse-ccw',
  'virtio-net': 'virtio-net-ccw',
  'virtio-rng': 'virtio-rng-ccw',
  'virtio-scsi': 'virtio-scsi-ccw',
  'virtio-serial': 'virtio-serial-ccw',
  'virtio-tablet': 'virtio-tablet-ccw',
})

/** The device type a driver name means on s390x (aliases resolved). */
export function deviceType(driver: string): string {
  return own(DEVICE_ALIASES, driver) ?? driver
}

export function deviceFromPairs(pairs: Array<[string, string]>, id: string | undefined, extra: Partial<QemuDevice>): QemuDevice {
  const d: QemuDevice = {driver: '', props: table(), ...extra}
  if (id !== undefined) d.id = id
  let driver: string | undefined
  for (const [k, v] of pairs) {
    if (k === 'id') continue
    if (k === 'driver') driver = v
    else if (k === 'bus') d.bus = v
    else {
      delete d.props[k]
      d.props[k] = v
    }
  }
  if (driver !== undefined) d.driver = driver
  return d
}

export function jsonDevice(obj: {[k: string]: JVal}, location: string): QemuDevice {
  const pairs: Array<[string, string]> = []
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'id') continue
    if (typeof v === 'string') pairs.push([k, v])
    else if (typeof v === 'number') pairs.push([k, qnumToString(v)])
    else if (typeof v === 'boolean') pairs.push([k, v ? 'on' : 'off'])
  }
  const id = own(obj, 'id')
  const idText = typeof id === 'string' ? id : undefined
  return deviceFromPairs(pairs, idText, {json: true, location})
}

// ---------------------------------------------------------------------------
// Device creation (system/qdev-monitor.c qdev_device_add_from_qdict)

export interface DeviceCreateContext {
  /** The machine has an ap-bus (the guest CPU has the ap feature). */
  apBus: boolean
  /** A vfio-ap device already sits on it (max_dev = 1). */
  apBusOccupied: boolean
  /** Ids of the devices that exist already (qdev's /machine/peripheral). */
  existingIds?: readonly string[]
}

/**
 * The error qdev gives when creating this device (before vfio-ap's realize),
 * as the bare message (no prefix), or null if creation gets as far as realize.
 * Only vfio-ap is modelled; other drivers give null.
 * Wrap it with startupDeviceError(), hmpError() or libvirtQmpError().
 */
export function deviceCreateError(dev: QemuDevice, ctx: DeviceCreateContext): {msg: string; hint?: string} | null {
  // qmp_device_add() -> qemu_opts_from_qdict(): the id of a JSON device is checked only now.
  if (dev.json && dev.id !== undefined && !idWellformed(dev.id)) return {msg: ID_NOT_IDENTIFIER, hint: ID_HINT}
  if (!dev.driver) return {msg: missingParameter('driver')}
  const type = deviceType(dev.driver)
  if (notAQemuType(type)) return {msg: notValidDeviceModel(dev.driver)}
  if (type === 'ap-device') return {msg: invalidParameterValue('driver', 'a non-abstract device type')}
  if (type === 'ap-bridge') return {msg: invalidParameterValue('driver', 'a pluggable device type')}
  if (type !== 'vfio-ap') return null
  if (dev.bus !== undefined) {
    if (dev.bus === 'ap-bus') {
      if (!ctx.apBus) return {msg: busNotFound('ap-bus')}
      if (ctx.apBusOccupied) return {msg: busFull('ap-bus')}
    } else if (dev.bus === 'main-system-bus') {
      return {msg: deviceCantGoOnBus('vfio-ap', 'System')}
    } else return {msg: busNotFound(dev.bus.replace(/\/.*$/, ''))}
  } else if (!ctx.apBus || ctx.apBusOccupied) return {msg: noApBus()}
  if (dev.id !== undefined && ctx.existingIds?.includes(dev.id)) return {msg: duplicateDeviceId(dev.id)}
  for (const k of Object.keys(dev.props)) {
    if (!VFIO_AP_PROPS.has(k)) return {msg: propertyNotFound('vfio-ap', k)}
  }
  return null
}

/** QEMU's vfio device types on s390x; the AP ones besides. */
const VFIO_TYPES = new Set(['vfio-ap', 'vfio-ccw', 'vfio-pci', 'vfio-pci-nohotplug', 'vfio-user-pci'])
const AP_TYPES = ['vfio-ap', 'ap-bridge', 'ap-device']

/**
 * A driver name QEMU has no type for, as far as aplab can tell: QEMU models
 * many devices aplab does not, so only near misses of the AP and vfio types
 * are refused (`vfio_ap`, `VFIO-AP`, `vfio-apx`); other names pass.
 */
function notAQemuType(type: string): boolean {
  if (AP_TYPES.includes(type) || VFIO_TYPES.has(type)) return false
  return AP_TYPES.includes(type.toLowerCase().replace(/_/g, '-')) || /^vfio/i.test(type)
}

/** Properties of vfio-ap (hw/vfio/ap.c: sysfsdev, iommufd with CONFIG_IOMMUFD, fd) and of every device. */
const VFIO_AP_PROPS = new Set(['sysfsdev', 'iommufd', 'fd', 'realized', 'hotplugged', 'hotpluggable', 'parent_bus', 'type'])

/** QEMU creates the non-JSON -device options first, then the JSON ones (qemu_create_cli_devices). */
export function devicesInCreationOrder(devices: readonly QemuDevice[]): QemuDevice[] {
  return [...devices.filter((d) => !d.json), ...devices.filter((d) => d.json)]
}

/** qdev's creation of the -device options in QEMU's order, up to the first that fails. */
export function createDevices(all: readonly QemuDevice[], apBus: boolean): {created: QemuDevice[]; failed: {dev: QemuDevice; msg: string; hint?: string} | null} {
  const created: QemuDevice[] = []
  const ids: string[] = []
  for (const dev of devicesInCreationOrder(all)) {
    const err = deviceCreateError(dev, {apBus, apBusOccupied: created.some((d) => d.driver === 'vfio-ap'), existingIds: ids})
    if (err) return {created, failed: {dev, ...err}}
    created.push(dev)
    if (dev.id !== undefined) ids.push(dev.id)
  }
  return {created, failed: null}
}

// ---------------------------------------------------------------------------
// sysfsdev paths

// sysfs names an mdev by its UUID in lower case (the kernel prints it with %pUl), and paths are case-sensitive.
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const MDEV_PATHS = [
  '/sys/bus/mdev/devices/',
  '/sys/devices/vfio_ap/matrix/',
  '/sys/bus/mdev/drivers/vfio_ap_mdev/',
  '/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/devices/',
  '/sys/class/mdev_bus/matrix/',
]
const MDEV_PATH_RE = new RegExp(`^(?:${MDEV_PATHS.map((p) => p.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})(${UUID})$`)

/**
 * The mdev UUID a vfio-ap sysfsdev names, for every path form of the kernel
 * documentation: /sys/bus/mdev/devices/UUID, /sys/devices/vfio_ap/matrix/UUID,
 * /sys/bus/mdev/drivers/vfio_ap_mdev/UUID,
 * /sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/devices/UUID,
 * /sys/class/mdev_bus/matrix/UUID; with trailing slashes, repeated slashes,
 * "." components, and one pair of surrounding shell quotes. The UUID is
 * in lower case, as sysfs names it (a path with upper-case digits names
 * nothing: sysfs is case-sensitive); null if not an mdev path.
 * Every form is one the emulated /sys resolves to the mdev (Linux 6.15 has
 * no generic vfio_mdev driver, so /sys/bus/mdev/drivers/vfio_mdev is none).
 */
export function mdevUuidFromSysfsdev(path: string): string | null {
  let p = path.trim()
  const q = /^(["'])(.*)\1$/.exec(p)
  if (q) p = q[2]
  if (!p.startsWith('/')) return null
  p = p.replace(/\/+/g, '/').replace(/\/\.(?=\/|$)/g, '').replace(/\/+$/, '')
  const m = MDEV_PATH_RE.exec(p)
  return m ? m[1] : null
}
