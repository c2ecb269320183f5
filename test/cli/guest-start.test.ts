// `aplab guest start` and `device-add` as QEMU and libvirt refuse them:
// qdev's creation errors in QEMU's order, libvirt's checks before QEMU runs.

import {describe, expect, it} from 'vitest'

import {monitorAdd, start} from '../../src/cli/guest.js'
import {ToolExit} from '../../src/core/errors.js'
import type {World} from '../../src/core/model.js'
import {preset} from '../../src/core/presets.js'
import {hostVfs} from '../../src/sysfs/host.js'

const U = '11111111-1111-4111-8111-111111111111'
const V = '22222222-2222-4222-8222-222222222222'
const CPU = ['-cpu', 'host,ap=on']
const path = (u: string) => `/sys/bus/mdev/devices/${u}`

function world(): World {
  const h = preset('vfio-ap-doc').build('h')
  const v = hostVfs(h)
  v.write('/sys/bus/ap/apmask', '-5,-6\n')
  for (const u of [U, V]) v.write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', u)
  return {current: 'h', hosts: [h]}
}

function refusal(fn: () => unknown): {text: string; code: number} {
  try {
    fn()
  } catch (e) {
    if (e instanceof ToolExit) return {text: e.message, code: e.exitCode}
    throw e
  }
  throw new Error('no refusal')
}

const q = (w: World, name: string, args: string[], libvirt = false) => () => start(w, w.hosts[0], name, [...CPU, ...args], {libvirt, autostart: false})

describe('QEMU creates the devices one by one', () => {
  it('bus= names a bus that must exist and have room', () => {
    const w = world()
    expect(refusal(q(w, 'a', ['-device', `vfio-ap,bus=foo,sysfsdev=${path(U)},id=v0`]))).toEqual({
      text: `qemu-system-s390x: -device vfio-ap,bus=foo,sysfsdev=${path(U)},id=v0: Bus 'foo' not found\n`,
      code: 1,
    })
    expect(refusal(q(w, 'b', ['-device', `vfio-ap,sysfsdev=${path(U)},id=v0`, '-device', `vfio-ap,bus=ap-bus,sysfsdev=${path(V)},id=v1`])).text).toBe(
      `qemu-system-s390x: -device vfio-ap,bus=ap-bus,sysfsdev=${path(V)},id=v1: Bus 'ap-bus' is full\n`,
    )
    expect(w.hosts[0].guests).toEqual([])
  })

  it('a device realized before a later one fails to be created reports its own error first', () => {
    const w = world()
    expect(refusal(q(w, 'a', ['-device', 'vfio-ap,sysfsdev=/sys/bus/mdev/devices/nosuch,id=v0', '-device', `vfio-ap,bus=ap-bus,sysfsdev=${path(V)},id=v1`])).text).toBe(
      'qemu-system-s390x: -device vfio-ap,sysfsdev=/sys/bus/mdev/devices/nosuch,id=v0: vfio /sys/bus/mdev/devices/nosuch: no such host device: No such file or directory\n',
    )
  })

  it('a near miss of a device type name is no device QEMU knows', () => {
    const w = world()
    expect(refusal(q(w, 'a', ['-device', `vfio_ap,sysfsdev=${path(U)}`])).text).toBe(
      `qemu-system-s390x: -device vfio_ap,sysfsdev=${path(U)}: 'vfio_ap' is not a valid device model name\n`,
    )
    // Devices aplab does not model pass, as QEMU would take them.
    q(w, 'b', ['-device', 'virtio-rng-ccw', '-device', `vfio-ap,sysfsdev=${path(U)}`])()
    expect(w.hosts[0].guests.map((g) => g.name)).toEqual(['b'])
  })

  it('an unknown property is refused before realize', () => {
    const w = world()
    expect(refusal(q(w, 'a', ['-device', `vfio-ap,sysfsdev=${path(U)},foo=bar`])).text).toBe(
      `qemu-system-s390x: -device vfio-ap,sysfsdev=${path(U)},foo=bar: Property 'vfio-ap.foo' not found\n`,
    )
  })

  it('device_add on a full bus: with bus= the bus is full, without it there is no ap-bus', () => {
    const w = world()
    start(w, w.hosts[0], 'g', [...CPU, '-device', `vfio-ap,sysfsdev=${path(U)},id=a`], {libvirt: false, autostart: false})
    expect(refusal(() => monitorAdd(w, 'g', `vfio-ap,sysfsdev=${path(V)},id=b,bus=ap-bus`)).text).toBe("Error: Bus 'ap-bus' is full\n")
    expect(refusal(() => monitorAdd(w, 'g', `vfio-ap,sysfsdev=${path(V)},id=b`)).text).toBe("Error: No 'ap-bus' bus found for device 'vfio-ap'\n")
  })
})

describe('libvirt checks the domain before it runs QEMU', () => {
  it('one vfio-ap hostdev at most, an mdev that exists, and not one another domain holds', () => {
    const w = world()
    expect(refusal(q(w, 'd1', ['-device', `vfio-ap,sysfsdev=${path(U)}`, '-device', `vfio-ap,sysfsdev=${path(V)}`], true)).text).toBe(
      "error: Failed to start domain 'd1'\nerror: unsupported configuration: Only one hostdev of model vfio-ap is supported\n",
    )
    const none = '33333333-3333-4333-8333-333333333333'
    expect(refusal(q(w, 'd1', ['-device', `vfio-ap,sysfsdev=${path(none)}`], true)).text).toBe(
      `error: Failed to start domain 'd1'\nerror: device not found: mediated device '${none}' not found\n`,
    )
    q(w, 'd1', ['-device', `vfio-ap,sysfsdev=${path(U)}`], true)()
    expect(refusal(q(w, 'd2', ['-device', `vfio-ap,sysfsdev=${path(U)}`], true)).text).toBe(
      `error: Failed to start domain 'd2'\nerror: Requested operation is not valid: mediated device ${path(U)} is in use by driver QEMU, domain d1\n`,
    )
  })
})
