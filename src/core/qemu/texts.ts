// QEMU 10.1's errors and message texts around vfio-ap: QemuError, how QEMU
// reports on stderr and in the HMP monitor, the qerror parameter texts, and
// the qdev and vfio messages (bare: wrapped by the callers). The rest of
// QEMU's model is beside this file in src/core/qemu/ (split out of
// src/core/qemu.ts: cmdline, cpu, options, devices, hmp, qobject, libvirt,
// monitor).
//
// Pure: no I/O, no process access. Every message text below is QEMU's own;
// the source file each one comes from is named next to it.
//
// How QEMU reports (util/qemu-error.c): on stderr a message is
//   "<prog>: [<location>: ]<text>"      (error_report)
//   "<prog>: [<location>: ]warning: <text>"  (warn_report)
// where <prog> is the basename of argv[0] and <location> is the command-line
// option being processed (argv words joined by a space, e.g. "-device vfio-ap,x=y").
// Locations exist only while options are parsed and while each -device is
// created; everything after the option loop (machine, accelerator, -cpu,
// CPU creation) prints without one. Inside the HMP monitor there is neither a
// program name nor a location, and command errors get "Error: " (hmp_handle_error).

import {AplabError, type Errno, ERRNO} from '../errors.js'
import type {QemuDevice} from './devices.js'

// ---------------------------------------------------------------------------
// Errors

export interface QemuErrorInit {
  exitCode?: number
  /** Lines QEMU printed on stderr before the error (warnings), without newlines. */
  before?: string[]
  /** What QEMU printed on stdout (rare: HMP string syntax errors, option help). */
  stdout?: string
}

/**
 * QEMU stopped (or, in the monitor, refused a command). `message` is the error
 * as printed: one line, or several when QEMU adds hint lines; no trailing newline.
 * `stderr` is everything QEMU printed on stderr up to and including it.
 */
export class QemuError extends AplabError {
  readonly lines: string[]
  readonly before: string[]
  readonly stdout: string
  constructor(lines: string | string[], init: QemuErrorInit = {}) {
    const ls = typeof lines === 'string' ? [lines] : lines
    super(ls.join('\n'), init.exitCode ?? 1)
    this.lines = ls
    this.before = init.before ?? []
    this.stdout = init.stdout ?? ''
  }
  /** The complete stderr text, one newline after each line. */
  get stderr(): string {
    return [...this.before, ...this.lines].map((l) => l + '\n').join('')
  }
}

// ---------------------------------------------------------------------------
// Small formatting helpers (util/qemu-error.c, qapi/qmp/qerror.h)

export const QEMU_PROG = 'qemu-system-s390x'

/** g_set_prgname(basename(argv[0])) as error_init() does. */
export function progName(argv0: string = QEMU_PROG): string {
  const i = argv0.lastIndexOf('/')
  return i < 0 ? argv0 : argv0.slice(i + 1)
}

export function hintLines(hint?: string): string[] {
  if (!hint) return []
  return hint.replace(/\n$/, '').split('\n')
}

/** error_report()/error_report_err() on stderr: the message line, then any hint lines. */
export function stderrError(msg: string, location?: string | null, hint?: string, prog: string = QEMU_PROG): string[] {
  return [`${prog}: ${location ? location + ': ' : ''}${msg}`, ...hintLines(hint)]
}

/** warn_report() on stderr. */
export function stderrWarning(msg: string, location?: string | null, prog: string = QEMU_PROG): string {
  return `${prog}: ${location ? location + ': ' : ''}warning: ${msg}`
}

/** An -device error at startup: "<prog>: -device <arg>: <msg>" (hint lines follow). */
export function startupDeviceError(dev: Pick<QemuDevice, 'location'>, msg: string, hint?: string, prog: string = QEMU_PROG): string[] {
  return stderrError(msg, dev.location ?? null, hint, prog)
}

/** An HMP command error as the monitor shows it (hmp_handle_error: error_reportf_err(err, "Error: ")). */
export function hmpError(msg: string, hint?: string): string[] {
  return [`Error: ${msg}`, ...hintLines(hint)]
}

/** How libvirt reports a failed QMP command (qemuMonitorJSONCheckError), e.g. for device_add. */
export function libvirtQmpError(command: string, desc: string): string {
  return `internal error: unable to execute QEMU command '${command}': ${desc}`
}

const strerr = (e: Errno): string => ERRNO[e][1]

/** QERR_INVALID_PARAMETER_VALUE */
export const invalidParameterValue = (name: string, expected: string): string => `Parameter '${name}' expects ${expected}`
/** QERR_MISSING_PARAMETER */
export const missingParameter = (name: string): string => `Parameter '${name}' is missing`
/** QERR_INVALID_PARAMETER */
export const invalidParameter = (name: string): string => `Invalid parameter '${name}'`
/** qom/object.c object_property_find_err() */
export const propertyNotFound = (type: string, prop: string): string => `Property '${type}.${prop}' not found`
/** qom/object.c object_property_set() on a read-only property */
export const propertyNotWritable = (type: string, prop: string): string => `Property '${type}.${prop}' is not writable`

/** util/qemu-option.c qemu_opts_create(): an id that is not an identifier. */
export const ID_NOT_IDENTIFIER = invalidParameterValue('id', 'an identifier')
export const ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"

/** util/id.c id_wellformed() */
export function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9\-._]*$/.test(id)
}

// ---------------------------------------------------------------------------
// Message texts (bare: wrap with startupDeviceError / hmpError / libvirtQmpError)

/** system/qdev-monitor.c: no ap-bus (ap=off), or the ap-bus already has its one device. */
export const noApBus = (): string => `No 'ap-bus' bus found for device 'vfio-ap'`
/** qdev-monitor.c qbus_find(): bus=NAME that does not exist (e.g. bus=ap-bus with ap=off). */
export const busNotFound = (name: string): string => `Bus '${name}' not found`
/** qdev-monitor.c qbus_find(): bus=ap-bus when it already has a device. */
export const busFull = (path: string): string => `Bus '${path}' is full`
/** qdev-monitor.c: bus=NAME of the wrong type (busType is the QOM type, "System" for the main system bus). */
export const deviceCantGoOnBus = (driver: string, busType: string): string => `Device '${driver}' can't go on ${busType} bus`
/** qdev-monitor.c qdev_get_device_class() */
export const notValidDeviceModel = (driver: string): string => `'${driver}' is not a valid device model name`
/** qdev-monitor.c qdev_set_id(): id already used by a created device. */
export const duplicateDeviceId = (id: string): string => `Duplicate device ID '${id}'`
/** util/qemu-option.c: a second -device with the same id while options are parsed. */
export const duplicateOptsId = (id: string, list = 'device'): string => `Duplicate ID '${id}' for ${list}`
/** qdev-monitor.c find_device_state(): device_del of an unknown id. */
export const deviceNotFound = (id: string): string => `Device '${id}' not found`

const VFIO_PREFIX = (name: string): string => `vfio ${name}: `

/**
 * hw/vfio/device.c vfio_device_get_name(): the sysfsdev path does not exist
 * (stat fails). Without sysfsdev QEMU stats NULL: "vfio (null): ...: Bad address".
 */
export function noSuchHostDevice(sysfsdev: string | undefined, errno: Errno | 'EFAULT' = 'ENOENT'): string {
  const text = errno === 'EFAULT' || sysfsdev === undefined ? 'Bad address' : strerr(errno)
  return `${VFIO_PREFIX(sysfsdev ?? '(null)')}no such host device: ${text}`
}

/** The vfio device name QEMU uses in messages: the basename of sysfsdev (g_path_get_basename). */
export function vfioName(sysfsdev: string): string {
  const t = sysfsdev.replace(/\/+$/, '')
  if (t === '') return sysfsdev === '' ? '.' : '/'
  return t.slice(t.lastIndexOf('/') + 1)
}

/** hw/vfio/container.c: the path exists but has no iommu_group link. */
export function noIommuGroup(sysfsdev: string, errno: Errno = 'ENOENT'): string {
  return `${VFIO_PREFIX(vfioName(sysfsdev))}no iommu_group found: ${strerr(errno)}`
}

/**
 * The mdev is already open in another QEMU: opening its VFIO group
 * /dev/vfio/GROUP fails with EBUSY (util/osdep.c qemu_open: "Could not open").
 */
export function deviceBusy(sysfsdev: string, group: number | string): string {
  return `${VFIO_PREFIX(vfioName(sysfsdev))}Could not open '/dev/vfio/${group}': ${strerr('EBUSY')}`
}

/**
 * QEMU may not open the VFIO group /dev/vfio/GROUP (root's, 0600, unless
 * libvirt or udev hand it over): the same qemu_open failure with EACCES.
 */
export function groupAccessDenied(sysfsdev: string, group: number | string): string {
  return `${VFIO_PREFIX(vfioName(sysfsdev))}Could not open '/dev/vfio/${group}': ${strerr('EACCES')}`
}

/**
 * VFIO_GROUP_GET_DEVICE_FD failed (e.g. EPERM: vfio_ap's open_device found
 * another mdev on this KVM; EINVAL: no KVM). Two lines: message and QEMU's hint.
 */
export function deviceFdError(sysfsdev: string, group: number | string, errno: Errno): {msg: string; hint: string} {
  return {
    msg: `${VFIO_PREFIX(vfioName(sysfsdev))}error getting device from group ${group}: ${strerr(errno)}`,
    hint: `Verify all devices in group ${group} are bound to vfio-<bus> or pci-stub and not already in use\n`,
  }
}

/** hw/vfio/ap.c realize: an IRQ the kernel lacks is only warned about (warn_report_err). */
export function irqNotAvailable(irq: number, numIrqs: number): string {
  return `vfio: IRQ ${irq} not available (number of irqs ${numIrqs})`
}

/** hw/vfio/ap.c vfio_ap_reset(): VFIO_DEVICE_RESET failed (error_report). */
export function resetFailed(name: string, errno: Errno): string {
  return `vfio_ap_reset: failed to reset ${name} device: ${strerr(errno)}`
}
