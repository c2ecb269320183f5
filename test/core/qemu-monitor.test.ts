// The one QEMU monitor (src/core/qemu/monitor.ts) both the qemu-system-s390x
// process and `virsh qemu-monitor-command` run: which command does what to
// the guest, its reply, its QMP events, and whether QEMU quits.

import {describe, expect, it} from 'vitest'

import {start} from '../../src/cli/guest.js'
import type {Guest, Host, World} from '../../src/core/model.js'
import {preset} from '../../src/core/presets.js'
import {type MonitorProcess, type QmpSession, type Step, hmpStep, qmpGreeting, qmpStep} from '../../src/core/qemu/monitor.js'
import type {Json} from '../../src/core/qemu/qobject.js'
import {hostVfs} from '../../src/sysfs/host.js'

const U = '11111111-1111-4111-8111-111111111111'
const SYSFSDEV = `/sys/bus/mdev/devices/${U}`
const USER = 1000

function lab(ap = true, more: string[] = []): {w: World; host: Host; guest: Guest} {
  const host = preset('vfio-ap-doc').build('h')
  const v = hostVfs(host)
  v.write('/sys/bus/ap/apmask', '-5,-6\n')
  v.write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', U)
  const w: World = {current: 'h', hosts: [host]}
  start(w, host, 'g', ['-cpu', `host,ap=${ap ? 'on' : 'off'}`, ...more], {libvirt: false, autostart: false})
  return {w, host, guest: host.guests[0]}
}

/** Run a step as a caller would: on the guest when it asks for it; which it did is part of the result. */
function run<T>(l: {host: Host; guest: Guest}, step: Step<T>) {
  const onGuest = !('now' in step)
  const done = 'now' in step ? step.now : step.onGuest(l.host, l.guest)
  return {onGuest, ...done}
}

const P: MonitorProcess = {givenName: 'g', uid: 0}
const hmp = (l: {host: Host; guest: Guest}, line: string, p = P) => run(l, hmpStep(p, line))
const qmp = (l: {host: Host; guest: Guest}, req: Json, s: QmpSession = {negotiated: true}, p = P) => run(l, qmpStep(p, s, req))

describe('HMP', () => {
  it('device_add, info qtree, device_del raise DEVICE_DELETED for QMP clients', () => {
    const l = lab()
    expect(hmp(l, `device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0`)).toEqual({onGuest: true, reply: '', events: []})
    expect(hmp(l, 'info qtree').reply).toBe(
      'bus: main-system-bus\n  type System\n  dev: ap-bridge, id ""\n    bus: ap-bus\n      type ap-bus\n' +
        `      dev: vfio-ap, id "hostdev0"\n        sysfsdev = "${SYSFSDEV}"\n`,
    )
    expect(hmp(l, `device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev1`).reply).toBe("Error: No 'ap-bus' bus found for device 'vfio-ap'\n")
    expect(hmp(l, 'device_del hostdev0')).toEqual({
      onGuest: true,
      reply: '',
      events: [{event: 'DEVICE_DELETED', data: {device: 'hostdev0', path: '/machine/peripheral/hostdev0'}}],
    })
    expect(l.guest.device).toBeNull()
    expect(hmp(l, 'device_del hostdev0')).toEqual({onGuest: true, reply: "Error: Device 'hostdev0' not found\n", events: []})
  })

  it('info qtree without the ap feature has no AP bridge', () => {
    expect(hmp(lab(false), 'info qtree').reply).toBe('bus: main-system-bus\n  type System\n')
  })

  it('a device added without an id goes by its QOM path; the event has no device member', () => {
    const l = lab()
    hmp(l, `device_add vfio-ap,sysfsdev=${SYSFSDEV}`)
    expect(l.guest.device?.id).toBe('')
    expect(hmp(l, 'device_del /machine/peripheral-anon/device[0]').events).toEqual([{event: 'DEVICE_DELETED', data: {path: '/machine/peripheral-anon/device[0]'}}])
    expect(l.guest.device).toBeNull()
  })

  it('short-form booleans warn in the monitor, as qemu_opts_parse_noisily does', () => {
    const l = lab()
    const r = hmp(l, `device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0,hotpluggable`)
    expect(r.reply).toMatch(/^warning: short-form boolean option 'hotpluggable' deprecated\n/)
  })

  it('parse errors are answered without the guest; name, version and quit too', () => {
    const l = lab()
    expect(hmp(l, 'device_del')).toEqual({onGuest: false, reply: 'device_del: string expected\nTry "help device_del" for more information\n', events: []})
    expect(hmp(l, 'info name')).toEqual({onGuest: false, reply: 'g\n', events: []})
    expect(hmp(l, 'info name', {givenName: undefined, uid: 0}).reply).toBe('')
    expect(hmp(l, 'info version').reply).toBe('10.1.0\n')
    // monitor_parse_command() prints the line from its very start; a name ends at white space or '/'.
    expect(hmp(l, '  info  blah x').reply).toBe("unknown command: '  info  blah'\n")
    expect(hmp(l, 'frobnicate 1').reply).toBe("unknown command: 'frobnicate'\n")
    expect(hmp(l, ' frob/4x 0').reply).toBe("unknown command: ' frob'\n")
    expect(hmp(l, 'info  ').reply).toBe('')
    expect(hmp(l, 'q')).toEqual({onGuest: false, reply: '', events: [], quit: 'host-qmp-quit-hmp'})
    expect(hmp(l, 'info status')).toEqual({onGuest: true, reply: 'VM status: running\n', events: []})
  })

  it('QEMU not run by libvirt opens the vfio group as its uid', () => {
    const l = lab()
    expect(hmp(l, `device_add vfio-ap,sysfsdev=${SYSFSDEV},id=v0`, {givenName: 'g', uid: USER}).reply).toBe(
      `Error: vfio ${U}: Could not open '/dev/vfio/0': Permission denied\n`,
    )
    expect(l.guest.device).toBeNull()
  })
})

describe('QMP', () => {
  it('negotiation first, then once only', () => {
    const l = lab()
    const s = {negotiated: false}
    expect(qmp(l, {execute: 'query-status'}, s).reply).toEqual({error: {class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'"}})
    expect(qmp(l, {execute: 'qmp_capabilities'}, s).reply).toEqual({return: {}})
    expect(qmp(l, {execute: 'qmp_capabilities'}, s).reply).toEqual({error: {class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored'}})
  })

  it('request shape errors', () => {
    const l = lab()
    expect(qmp(l, [1]).reply).toEqual({error: {class: 'GenericError', desc: 'QMP input must be a JSON object'}})
    expect(qmp(l, {}).reply).toEqual({error: {class: 'GenericError', desc: "QMP input lacks member 'execute'"}})
    expect(qmp(l, {execute: 1}).reply).toEqual({error: {class: 'GenericError', desc: "QMP input member 'execute' must be a string"}})
    expect(qmp(l, {execute: 'cont', arguments: []}).reply).toEqual({error: {class: 'GenericError', desc: "QMP input member 'arguments' must be an object"}})
    expect(qmp(l, {execute: 'system_wakeup'}).reply).toEqual({error: {class: 'CommandNotFound', desc: 'The command system_wakeup has not been found'}})
  })

  it('device_add makes QemuOpts of its arguments: strings, numbers and booleans; the id only as a string', () => {
    const l = lab()
    expect(qmp(l, {execute: 'device_add', arguments: {driver: {}, id: 'x'}}).reply).toEqual({error: {class: 'GenericError', desc: "Parameter 'driver' is missing"}})
    expect(qmp(l, {execute: 'device_add', arguments: {driver: 'vfio-ap', sysfsdev: SYSFSDEV, fd: 3, x: true}}).reply).toEqual({
      error: {class: 'GenericError', desc: "Property 'vfio-ap.x' not found"},
    })
    expect(qmp(l, {execute: 'device_add', arguments: {driver: 'vfio-ap', id: 7, sysfsdev: SYSFSDEV, x: null}})).toEqual({onGuest: true, reply: {return: {}}, events: []})
    expect(l.guest.device?.id).toBe('')
    qmp(l, {execute: 'device_del', arguments: {id: '/machine/peripheral-anon/device[0]'}})
    expect(qmp(l, {execute: 'device_add', arguments: {driver: 'vfio-ap', id: '0x', sysfsdev: SYSFSDEV}}).reply).toEqual({
      error: {class: 'GenericError', desc: "Parameter 'id' expects an identifier"},
    })
    expect(qmp(l, {execute: 'device_add', arguments: {driver: 'vfio-ap', id: 'hostdev0', sysfsdev: SYSFSDEV}})).toEqual({onGuest: true, reply: {return: {}}, events: []})
    expect(qmp(l, {execute: 'device_del', arguments: {id: '/machine/peripheral/hostdev0'}}).events).toEqual([
      {event: 'DEVICE_DELETED', data: {device: 'hostdev0', path: '/machine/peripheral/hostdev0'}},
    ])
    expect(qmp(l, {execute: 'device_del', arguments: {id: 'hostdev0'}}).reply).toEqual({error: {class: 'DeviceNotFound', desc: "Device 'hostdev0' not found"}})
    expect(qmp(l, {execute: 'device_del', arguments: {}}).reply).toEqual({error: {class: 'GenericError', desc: "Parameter 'id' is missing"}})
  })

  it('query-name, query-version, quit, and the greeting', () => {
    const l = lab()
    expect(qmp(l, {execute: 'query-name'}).reply).toEqual({return: {name: 'g'}})
    expect(qmp(l, {execute: 'query-version'}).reply).toEqual({return: {qemu: {micro: 0, minor: 1, major: 10}, package: ''}})
    expect(qmp(l, {execute: 'quit'})).toEqual({onGuest: false, reply: {return: {}}, events: [], quit: 'host-qmp-quit'})
    expect(qmpGreeting(true)).toBe('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 10}, "package": ""}, "capabilities": ["oob"]}}')
  })

  it('query-cpu-model-expansion checks its arguments before it looks at the host', () => {
    const l = lab()
    const x = (model: Json, type = 'static') => qmp(l, {execute: 'query-cpu-model-expansion', arguments: {type, model}})
    expect(x({name: 'host'}, 'full')).toEqual({onGuest: true, reply: {return: {model: {name: 'gen16a-base', props: {ap: true, apqci: true, apft: true, apqi: true}}}}, events: []})
    expect(x({name: 'z14', props: {ap: true}}).reply).toEqual({return: {model: {name: 'z14-base', props: {ap: true}}}})
    expect(x({name: 'nope'})).toEqual({onGuest: false, reply: {error: {class: 'GenericError', desc: "The CPU definition 'nope' is unknown."}}, events: []})
    expect(x({name: 'host', props: {ap: 1}}).reply).toEqual({error: {class: 'GenericError', desc: "Invalid parameter type for 'ap', expected: boolean"}})
    expect(x({name: 'host'}, 'both').reply).toEqual({error: {class: 'GenericError', desc: "Parameter 'type' does not accept value 'both'"}})
  })
})

describe('run state (-S, stop, cont)', () => {
  const status = (l: {host: Host; guest: Guest}) => qmp(l, {execute: 'query-status'}).reply

  it('-S: prelaunch, the device realized and its APCB set, no kernel until cont, which sends RESUME once', async () => {
    const v = (host: Host) => hostVfs(host)
    const l = lab(true, ['-S', '-device', `vfio-ap,sysfsdev=${SYSFSDEV},id=vfio0`])
    v(l.host).write(`/sys/devices/vfio_ap/matrix/${U}/assign_adapter`, '5\n')
    v(l.host).write(`/sys/devices/vfio_ap/matrix/${U}/assign_domain`, '4\n')
    expect(l.guest.device?.id).toBe('vfio0')
    expect(hmp(l, 'info status')).toEqual({onGuest: true, reply: 'VM status: paused (prelaunch)\n', events: []})
    expect(status(l)).toEqual({return: {status: 'prelaunch', running: false}})
    // stop in prelaunch: vm_stop does nothing, no STOP, still prelaunch.
    expect(hmp(l, 'stop')).toEqual({onGuest: true, reply: '', events: []})
    expect(hmp(l, 'info status').reply).toBe('VM status: paused (prelaunch)\n')
    expect(l.guest.runState).toBe('prelaunch')
    expect(hmp(l, 'c')).toEqual({onGuest: true, reply: '', events: [{event: 'RESUME'}]})
    expect(l.guest.runState).toBeUndefined()
    // The kernel booted now, with the APCB the device has: it found 05.0004.
    const {execIn} = await import('../../src/cli/guest.js')
    expect((await execIn(l.host, l.guest, ['lszcrypt'], 0)).stdout).toBe('CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n05       CEX5C CCA-Coproc  online            0\n05.0004  CEX5C CCA-Coproc  online            0\n')
    expect(hmp(l, 'cont')).toEqual({onGuest: true, reply: '', events: []})
    expect(hmp(l, 'info status').reply).toBe('VM status: running\n')
  })

  it('stop pauses a running guest once (STOP), keeping its kernel; cont resumes it', () => {
    const l = lab()
    const kernel = l.guest.runtime
    expect(hmp(l, 's')).toEqual({onGuest: true, reply: '', events: [{event: 'STOP'}]})
    expect(hmp(l, 'info status').reply).toBe('VM status: paused\n')
    expect(status(l)).toEqual({return: {status: 'paused', running: false}})
    expect(hmp(l, 'stop')).toEqual({onGuest: true, reply: '', events: []})
    expect(qmp(l, {execute: 'cont'})).toEqual({onGuest: true, reply: {return: {}}, events: [{event: 'RESUME'}]})
    expect(l.guest.runtime).toBe(kernel)
    expect(status(l)).toEqual({return: {status: 'running', running: true}})
    expect(qmp(l, {execute: 'stop'})).toEqual({onGuest: true, reply: {return: {}}, events: [{event: 'STOP'}]})
    expect(qmp(l, {execute: 'stop'})).toEqual({onGuest: true, reply: {return: {}}, events: []})
    expect(qmp(l, {execute: 'cont'}).events).toEqual([{event: 'RESUME'}])
    expect(qmp(l, {execute: 'cont'})).toEqual({onGuest: true, reply: {return: {}}, events: []})
  })

  it('system_reset of a paused guest leaves it in prelaunch, without its kernel', async () => {
    const {resetGuest} = await import('../../src/core/guest.js')
    const l = lab()
    hmp(l, 'stop')
    resetGuest(l.host, l.guest)
    expect(hmp(l, 'info status').reply).toBe('VM status: paused (prelaunch)\n')
  })

  it('arguments are refused: HMP names the table entry, QMP the first member', () => {
    const l = lab()
    expect(hmp(l, 'stop now')).toEqual({onGuest: false, reply: 'stop|s: extraneous characters at the end of line\nTry "help stop" for more information\n', events: []})
    expect(hmp(l, ' c  1').reply).toBe('cont|c: extraneous characters at the end of line\nTry "help  c" for more information\n')
    expect(hmp(l, 'quit x')).toEqual({onGuest: false, reply: 'quit|q: extraneous characters at the end of line\nTry "help quit" for more information\n', events: []})
    expect(hmp(l, 'stop   ').events).toEqual([{event: 'STOP'}])
    expect(qmp(l, {execute: 'cont', arguments: {now: true}})).toEqual({onGuest: false, reply: {error: {class: 'GenericError', desc: "Parameter 'now' is unexpected"}}, events: []})
    expect(qmp(l, {execute: 'query-status', arguments: {x: 1}}).reply).toEqual({error: {class: 'GenericError', desc: "Parameter 'x' is unexpected"}})
    expect(l.guest.runState).toBe('paused')
  })
})
