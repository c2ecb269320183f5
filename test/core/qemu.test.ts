import {describe, expect, it} from 'vitest'

import {missingFeatures, parseQemuArgs} from '../../src/core/qemu/cmdline.js'
import {CPU_MODELS, findCpuModel, type HostCpuFacts} from '../../src/core/qemu/cpu.js'
import {deviceCreateError, devicesInCreationOrder, mdevUuidFromSysfsdev} from '../../src/core/qemu/devices.js'
import {parseDeviceAdd, parseDeviceAddFull, parseDeviceDel} from '../../src/core/qemu/hmp.js'
import {LIBVIRT_MDEV_NOT_MIGRATABLE, libvirtMigrationBlocked, NON_MIGRATABLE, NON_MIGRATABLE_REASON, VFIO_AP_VMSTATE_ID} from '../../src/core/qemu/libvirt.js'
import {qemuOption} from '../../src/core/qemu/options.js'
import {qemuJsonParse} from '../../src/core/qemu/qobject.js'
import {busFull, busNotFound, deviceBusy, deviceFdError, deviceNotFound, hmpError, libvirtQmpError, noApBus, noIommuGroup, noSuchHostDevice, QemuError, startupDeviceError} from '../../src/core/qemu/texts.js'

const HOST: HostCpuFacts = {ap: true, apqci: true, apft: true, apqi: true}
const NO_AP: HostCpuFacts = {ap: false, apqci: false, apft: false, apqi: false}
const UUID = '62177883-f1bb-47f0-914d-32a22e3a8804'
const KVM = ['-enable-kvm']

/** The QemuError a call throws. */
function qerr(f: () => unknown): QemuError {
  try {
    f()
  } catch (e) {
    if (e instanceof QemuError) return e
    throw e
  }
  throw new Error('no QemuError thrown')
}

const parse = (args: string[], host: HostCpuFacts = HOST) => parseQemuArgs(args, host)

describe('CPU models', () => {
  it('lists every model of QEMU 10.1 in -cpu help order, with -base variants', () => {
    const names = CPU_MODELS.map((m) => m.name)
    expect(names.slice(0, 5)).toEqual(['qemu', 'host', 'max', 'z900-base', 'z900'])
    expect(names.slice(-4)).toEqual(['gen17a-base', 'gen17a', 'gen17b-base', 'gen17b'])
    expect(names).toHaveLength(3 + 2 * 40)
    for (const n of ['z13', 'z13.2', 'z13s', 'z14ZR1', 'gen15b', 'gen16a', 'gen16b', 'zBC12', 'z890.3', 'z9BC.2']) expect(names).toContain(n)
    expect(names.some((n) => /-v\d/.test(n))).toBe(false)
  })
  it('carries generation, GA level, type and description', () => {
    expect(findCpuModel('z13')).toMatchObject({generation: 13, gaLevel: 1, machineType: 0x2964, description: 'IBM z13 GA1', typeName: 'z13-s390x-cpu', static: false})
    expect(findCpuModel('zEC12.2')).toMatchObject({generation: 12, gaLevel: 2})
    expect(findCpuModel('gen17b')).toMatchObject({generation: 17, machineType: 0x9176, description: 'IBM 9176 GA1'})
    expect(findCpuModel('z14-base')).toMatchObject({static: true, kind: 'base', typeName: 'z14-base-s390x-cpu'})
    expect(findCpuModel('host')).toMatchObject({kvmRequired: true, description: 'KVM only: All recognized features'})
    expect(findCpuModel('Z13')).toBeUndefined()
  })
})

describe('parseQemuArgs: the AP CPU features', () => {
  it('the kernel documentation example: -cpu host,ap=on,... with a vfio-ap device', () => {
    const p = parse([...KVM, '-cpu', 'host,ap=on,apqci=on,apft=on,apqi=on', '-device', `vfio-ap,sysfsdev=/sys/devices/vfio_ap/matrix/${UUID}`])
    expect(p.cpuModel).toBe('host')
    expect(p.accel).toBe('kvm')
    expect(p.features).toEqual({ap: true, apqci: true, apft: true, apqi: true})
    expect(p.apBus).toBe(true)
    expect(p.devices).toEqual([
      {driver: 'vfio-ap', props: {sysfsdev: `/sys/devices/vfio_ap/matrix/${UUID}`}, location: `-device vfio-ap,sysfsdev=/sys/devices/vfio_ap/matrix/${UUID}`},
    ])
    expect(p.warnings).toEqual([])
  })
  it('named models have the AP features off until turned on', () => {
    expect(parse([...KVM, '-cpu', 'z13']).features).toEqual({ap: false, apqci: false, apft: false, apqi: false})
    expect(parse([...KVM, '-cpu', 'z13,ap=on,apqci=on,apft=on,apqi=on']).features).toEqual({ap: true, apqci: true, apft: true, apqi: true})
    expect(parse([...KVM, '-cpu', 'zEC12,ap=on']).features.ap).toBe(true)
    expect(parse([...KVM, '-cpu', 'gen16a-base,ap=on']).features.ap).toBe(true)
  })
  it('host (and max under KVM) take the features the host has', () => {
    const h: HostCpuFacts = {ap: true, apqci: true, apft: true, apqi: false}
    expect(parseQemuArgs(KVM, h).features).toEqual(h)
    expect(parseQemuArgs([...KVM, '-cpu', 'max'], h).features).toEqual(h)
    expect(parse([...KVM, '-cpu', 'host,ap=off,apqci=off,apft=off,apqi=off']).features).toEqual({ap: false, apqci: false, apft: false, apqi: false})
  })
  it('boolean spellings QEMU accepts, last setting wins', () => {
    expect(parse([...KVM, '-cpu', 'z13,ap=yes,apqci=true,apft=y,apqi=on']).features).toEqual({ap: true, apqci: true, apft: true, apqi: true})
    expect(parse([...KVM, '-cpu', 'host,ap=no,apqci=false,apft=n,apqi=off']).features).toEqual({ap: false, apqci: false, apft: false, apqi: false})
    expect(parse([...KVM, '-cpu', 'z13,ap=on,ap=off']).features.ap).toBe(false)
    expect(parse([...KVM, '-cpu', 'z13,,ap=on,']).features.ap).toBe(true)
  })
  it('a bad boolean is QEMU global-property error', () => {
    expect(qerr(() => parse([...KVM, '-cpu', 'z13,ap=maybe'])).message).toBe(
      "qemu-system-s390x: can't apply global z13-s390x-cpu.ap=maybe: Parameter 'ap' expects 'on' or 'off'",
    )
    expect(qerr(() => parse([...KVM, '-cpu', 'z13,ap='])).message).toBe(
      "qemu-system-s390x: can't apply global z13-s390x-cpu.ap=: Parameter 'ap' expects 'on' or 'off'",
    )
  })
  it('older models than zEC12 cannot enable them', () => {
    const e = qerr(() => parse([...KVM, '-cpu', 'z196,ap=on']))
    expect(e.message).toBe(
      "qemu-system-s390x: can't apply global z196-s390x-cpu.ap=on: Feature 'ap' is not available for CPU model 'z196', it was introduced with later models.",
    )
    expect(e.exitCode).toBe(1)
    expect(e.stderr).toBe(e.message + '\n')
    expect(qerr(() => parse([...KVM, '-cpu', 'z114-base,apqi=on'])).message).toBe(
      "qemu-system-s390x: can't apply global z114-base-s390x-cpu.apqi=on: Feature 'apqi' is not available for CPU model 'z114', it was introduced with later models.",
    )
    // Turning them off is always allowed.
    expect(parse([...KVM, '-cpu', 'z196,ap=off']).features.ap).toBe(false)
  })
  it('asking for a feature the host lacks', () => {
    expect(qerr(() => parseQemuArgs([...KVM, '-cpu', 'host,ap=on'], NO_AP)).message).toBe(
      'qemu-system-s390x: Some features requested in the CPU model are not available in the configuration: ap  ',
    )
    expect(qerr(() => parseQemuArgs([...KVM, '-cpu', 'z13,ap=on,apqci=on,apft=on'], NO_AP)).message).toBe(
      'qemu-system-s390x: Some features requested in the CPU model are not available in the configuration: ap apft apqci  ',
    )
    expect(missingFeatures(['ap', 'apqi', 'apqci', 'apft'])).toBe(
      'Some features requested in the CPU model are not available in the configuration: ap apqi apft apqci  ',
    )
  })
  it('dependencies are warnings, in QEMU order, once per vCPU', () => {
    const p = parse([...KVM, '-cpu', 'z13,apqi=on,apft=on,apqci=on'])
    expect(p.features).toEqual({ap: false, apqci: true, apft: true, apqi: true})
    expect(p.warnings).toEqual([
      "qemu-system-s390x: warning: 'apqci' requires 'ap'.",
      "qemu-system-s390x: warning: 'apft' requires 'ap'.",
      "qemu-system-s390x: warning: 'apqi' requires 'ap'.",
    ])
    expect(p.apBus).toBe(false)
    expect(parse([...KVM, '-smp', '2', '-cpu', 'z13,apft=on']).warnings).toEqual([
      "qemu-system-s390x: warning: 'apft' requires 'ap'.",
      "qemu-system-s390x: warning: 'apft' requires 'ap'.",
    ])
  })
  it('warnings come before a fatal compatibility error', () => {
    const e = qerr(() => parseQemuArgs([...KVM, '-cpu', 'host,apqci=on'], NO_AP))
    expect(e.before).toEqual(["qemu-system-s390x: warning: 'apqci' requires 'ap'."])
    expect(e.stderr).toBe(
      "qemu-system-s390x: warning: 'apqci' requires 'ap'.\n" +
        'qemu-system-s390x: Some features requested in the CPU model are not available in the configuration: apqci  \n',
    )
  })
  it('unknown model, unknown feature, legacy +feature syntax, empty -cpu', () => {
    expect(qerr(() => parse([...KVM, '-cpu', 'z17'])).message).toBe("qemu-system-s390x: unable to find CPU model 'z17'")
    expect(qerr(() => parse([...KVM, '-cpu', ',ap=on'])).message).toBe("qemu-system-s390x: unable to find CPU model ''")
    expect(qerr(() => parse([...KVM, '-cpu', 'z13,foo=on'])).message).toBe(
      "qemu-system-s390x: can't apply global z13-s390x-cpu.foo=on: Property 'z13-s390x-cpu.foo' not found",
    )
    expect(qerr(() => parse([...KVM, '-cpu', 'z13,+ap'])).message).toBe('qemu-system-s390x: Expected key=value format, found +ap.')
    expect(qerr(() => parse([...KVM, '-cpu', 'z13,ap'])).message).toBe('qemu-system-s390x: Expected key=value format, found ap.')
    expect(qerr(() => parse([...KVM, '-cpu', ''])).message).toBe('qemu-system-s390x: -cpu option cannot be empty')
    // Other real features are accepted.
    expect(parse([...KVM, '-cpu', 'z14,vx=on,msa5=off,kimd-sha-512=on']).cpuProps).toEqual({vx: 'on', msa5: 'off', 'kimd-sha-512': 'on'})
  })
  it('the default model is host under KVM, qemu under TCG', () => {
    expect(parse(KVM).cpuModel).toBe('host')
    expect(parse(['-machine', 's390-ccw-virtio,accel=kvm']).cpuModel).toBe('host')
    expect(parse(['-accel', 'kvm']).cpuModel).toBe('host')
    const tcg = parse([])
    expect(tcg.accel).toBe('tcg')
    expect(tcg.cpuModel).toBe('qemu')
    expect(tcg.features.ap).toBe(false)
    expect(parseQemuArgs([], HOST, {argv0: '/usr/libexec/qemu-kvm'}).accel).toBe('kvm')
  })
  it('under TCG: host needs KVM, AP is not available, newer models are too new', () => {
    expect(qerr(() => parse(['-cpu', 'host'])).message).toBe('qemu-system-s390x: CPU definition requires KVM')
    expect(qerr(() => parse(['-cpu', 'z13,ap=on'])).message).toBe(
      'qemu-system-s390x: Some features requested in the CPU model are not available in the configuration: ap  ',
    )
    expect(qerr(() => parse(['-cpu', 'gen16a'])).message).toBe(
      "qemu-system-s390x: Selected CPU generation is too new. Maximum supported model in the configuration: 'gen15a'",
    )
  })
  it('a known host model limits the generation under KVM', () => {
    const h = {...HOST, model: 'gen15a'}
    expect(qerr(() => parseQemuArgs([...KVM, '-cpu', 'gen16b,ap=on'], h)).message).toBe(
      "qemu-system-s390x: Selected CPU generation is too new. Maximum supported model in the configuration: 'gen15a'",
    )
    expect(qerr(() => parseQemuArgs([...KVM, '-cpu', 'z14.2'], {...HOST, model: 'z14'})).message).toBe(
      "qemu-system-s390x: Selected CPU GA level is too new. Maximum supported model in the configuration: 'z14'",
    )
    expect(parseQemuArgs([...KVM, '-cpu', 'z13,ap=on'], h).features.ap).toBe(true)
  })
})

describe('parseQemuArgs: option syntax', () => {
  it('names that are JavaScript built-ins are names like any other (issue 9)', () => {
    for (const o of ['-constructor', '-__proto__', '-toString', '-hasOwnProperty', '--valueOf'])
      expect(qerr(() => parse([o])).message).toBe(`qemu-system-s390x: ${o}: invalid option`)
    expect(qemuOption('constructor')).toBeUndefined()
    expect(qemuOption('__proto__')).toBeUndefined()
    // Unknown device models other than AP look-alikes are outside the model, as 'foo' is.
    expect(parse([...KVM, '-device', 'hasOwnProperty']).devices.map((d) => d.driver)).toEqual(['hasOwnProperty'])
    expect(parse([...KVM, '-device', 'toString,id=x']).devices.map((d) => [d.driver, d.id])).toEqual([['toString', 'x']])
    expect(Object.entries(parse([...KVM, '-device', 'vfio-ap,constructor=1']).devices[0].props)).toEqual([['constructor', '1']])
    expect(qerr(() => parse([...KVM, '-cpu', 'host,__proto__=on'])).message).toBe(
      "qemu-system-s390x: can't apply global host-s390x-cpu.__proto__=on: Property 'host-s390x-cpu.__proto__' not found",
    )
    // A JSON key __proto__ is a key: the device keeps its own properties and no id comes from it.
    const j = parse([...KVM, '-device', '{"driver":"virtio-net-ccw","__proto__":{"id":"x"},"constructor":"y"}']).devices[0]
    expect(j.id).toBeUndefined()
    expect(Object.entries(j.props)).toEqual([['constructor', 'y']])
    expect(parse([...KVM, '-smp', 'constructor=2']).cpus).toBe(1)
    expect(parse([...KVM, '-machine', 's390-ccw-virtio,__proto__=1']).machine).toBe('s390-ccw-virtio-10.1')
  })
  it('consumes every other option with its argument', () => {
    const p = parse([
      '-m', '4G', '-smp', '2', '-drive', 'file=x,if=virtio', '-nographic', '-enable-kvm', '-machine', 's390-ccw-virtio,accel=kvm',
      '-name', 'guest=my-guest,debug-threads=on', '-cpu', 'z13,ap=on', '-serial', 'mon:stdio', 'disk.img', '-S', '-nodefaults',
      '-object', 'iothread,id=io1', '-netdev', 'user,id=n0', '-device', 'virtio-net-ccw,netdev=n0', '-chardev', 'pty,id=c0',
      '-boot', 'strict=on', '-uuid', UUID, '-msg', 'timestamp=on', '-kernel', '/boot/image', '-append', 'root=/dev/vda',
    ])
    expect(p.name).toBe('my-guest')
    expect(p.machine).toBe('s390-ccw-virtio-10.1')
    expect(p.cpus).toBe(2)
    expect(p.devices.map((d) => d.driver)).toEqual(['virtio-net-ccw'])
  })
  it('--opt is -opt, -opt=value is not an option', () => {
    expect(parse(['--enable-kvm', '--cpu', 'z13,ap=on', '--name', 'g1']).name).toBe('g1')
    expect(qerr(() => parse(['-cpu=host'])).message).toBe('qemu-system-s390x: -cpu=host: invalid option')
  })
  it('unknown options, missing arguments, options for other targets', () => {
    expect(qerr(() => parse(['-foo'])).message).toBe('qemu-system-s390x: -foo: invalid option')
    expect(qerr(() => parse(['--foo', '-m', '1G'])).message).toBe('qemu-system-s390x: --foo: invalid option')
    expect(qerr(() => parse(['-'])).message).toBe('qemu-system-s390x: -: invalid option')
    expect(qerr(() => parse(['-m'])).message).toBe('qemu-system-s390x: -m: requires an argument')
    // The first pass checks all options before anything else.
    expect(qerr(() => parse(['-cpu', 'bogus', '-device', 'x,id=1', '-spice', 'port=5900'])).message).toBe('qemu-system-s390x: -spice: invalid option')
    expect(qerr(() => parse(['-g', '800x600'])).message).toBe('qemu-system-s390x: -g 800x600: Option not supported for this target')
    expect(qerr(() => parse(['-no-fd-bootchk'])).message).toBe('qemu-system-s390x: -no-fd-bootchk: Option not supported for this target')
    expect(qemuOption('drive')).toEqual({takesArgument: true, forThisTarget: true})
    expect(qemuOption('nographic')).toEqual({takesArgument: false, forThisTarget: true})
    expect(qemuOption('smbios')).toEqual({takesArgument: true, forThisTarget: false})
  })
  it('the program name comes from argv0', () => {
    expect(qerr(() => parseQemuArgs(['-foo'], HOST, {argv0: '/usr/bin/qemu-kvm'})).message).toBe('qemu-kvm: -foo: invalid option')
  })
  it('help and version exit early', () => {
    expect(parse(['-cpu', 'help']).earlyExit).toEqual({reason: 'cpu-help', exitCode: 0})
    expect(parse(['-device', 'help']).earlyExit).toEqual({reason: 'device-help', exitCode: 0})
    expect(parse(['-device', 'vfio-ap,help']).earlyExit).toEqual({reason: 'device-help', exitCode: 0})
    expect(parse(['-version', '-cpu', 'bogus']).earlyExit).toEqual({reason: 'version', exitCode: 0})
  })
  it('machine types and accelerators', () => {
    expect(parse(['-M', 's390-ccw-virtio-9.2', ...KVM]).machine).toBe('s390-ccw-virtio-9.2')
    const e = qerr(() => parse(['-machine', 'pc', ...KVM]))
    expect(e.lines).toEqual(['qemu-system-s390x: unsupported machine type: "pc"', 'Use -machine help to list supported machines'])
    expect(qerr(() => parse(['-machine', 'accel=kvm', '-accel', 'kvm'])).message).toBe(
      'qemu-system-s390x: The -accel and "-machine accel=" options are incompatible',
    )
    expect(qerr(() => parse(['-machine', 'accel=xen'])).message).toBe('qemu-system-s390x: invalid accelerator xen')
    expect(parse(['-machine', 'accel=xen:kvm']).warnings).toEqual([
      'qemu-system-s390x: invalid accelerator xen',
      'qemu-system-s390x: falling back to KVM',
    ])
    expect(parseQemuArgs(['-machine', 'accel=kvm:tcg'], HOST, {kvmAvailable: false}).accel).toBe('tcg')
  })
  it('-name forms', () => {
    expect(parse([...KVM, '-name', 'simple']).name).toBe('simple')
    expect(parse([...KVM, '-name', 'guest=a,,b,process=qemu-a']).name).toBe('a,b')
    expect(parse([...KVM, '-name', 'one', '-name', 'guest=two']).name).toBe('two')
    expect(parse(KVM).name).toBeUndefined()
    expect(qerr(() => parse(['-name', 'g,foo=bar'])).message).toBe("qemu-system-s390x: -name g,foo=bar: Invalid parameter 'foo'")
    expect(qerr(() => parse(['-name', 'g,id=x'])).message).toBe("qemu-system-s390x: -name g,id=x: Invalid parameter 'id'")
    expect(qerr(() => parse(['-name', 'g,debug-threads=maybe'])).message).toBe(
      "qemu-system-s390x: -name g,debug-threads=maybe: Parameter 'debug-threads' expects 'on' or 'off'",
    )
    expect(parse([...KVM, '-name', 'g,debug-threads']).warnings).toEqual([
      "qemu-system-s390x: -name g,debug-threads: warning: short-form boolean option 'debug-threads' deprecated",
      'Please use debug-threads=on instead',
    ])
  })
})

describe('parseQemuArgs: -device', () => {
  it('QemuOpts syntax: implied driver, ,, escapes, last value wins, id and bus apart', () => {
    const p = parse([...KVM, '-device', 'vfio-ap,id=hostdev0,sysfsdev=/a,,b,sysfsdev=/x,bus=ap-bus'])
    expect(p.devices[0]).toEqual({driver: 'vfio-ap', id: 'hostdev0', bus: 'ap-bus', props: {sysfsdev: '/x'}, location: '-device vfio-ap,id=hostdev0,sysfsdev=/a,,b,sysfsdev=/x,bus=ap-bus'})
    expect(parse([...KVM, '-device', 'driver=vfio-ap,sysfsdev=/s']).devices[0]).toMatchObject({driver: 'vfio-ap', props: {sysfsdev: '/s'}})
    expect(parse([...KVM, '-device', 'id=x']).devices[0]).toMatchObject({driver: '', id: 'x'})
  })
  it('libvirt JSON form', () => {
    const arg = `{"driver":"vfio-ap","id":"hostdev0","sysfsdev":"/sys/bus/mdev/devices/${UUID}"}`
    const p = parse([...KVM, '-device', arg])
    expect(p.devices).toEqual([{driver: 'vfio-ap', id: 'hostdev0', props: {sysfsdev: `/sys/bus/mdev/devices/${UUID}`}, json: true, location: `-device ${arg}`}])
    expect(parse([...KVM, '-device', '{"driver":"x","n":1,"b":true,"f":1.5,"o":{"a":1}}']).devices[0].props).toEqual({n: '1', b: 'on', f: '1.5'})
  })
  it('JSON errors as QEMU words them', () => {
    const m = (a: string) => qerr(() => parse(['-device', a])).message
    expect(m('{"driver":"vfio-ap"')).toBe('qemu-system-s390x: -device {"driver":"vfio-ap": JSON parse error, premature EOI')
    expect(m('{"driver" "x"}')).toBe('qemu-system-s390x: -device {"driver" "x"}: JSON parse error, missing : in object pair')
    expect(m('{"a":1 "b":2}')).toBe('qemu-system-s390x: -device {"a":1 "b":2}: JSON parse error, expected separator in dict')
    expect(m('{"a":1,"a":2}')).toBe('qemu-system-s390x: -device {"a":1,"a":2}: JSON parse error, duplicate key')
    expect(m('{1:2}')).toBe('qemu-system-s390x: -device {1:2}: JSON parse error, key is not a string in object')
    expect(m('{"a":yes}')).toBe("qemu-system-s390x: -device {\"a\":yes}: JSON parse error, invalid keyword 'yes'")
    expect(m('{"a":@}')).toBe("qemu-system-s390x: -device {\"a\":@}: JSON parse error, stray '@'")
    expect(m('{"a":1} {}')).toBe('qemu-system-s390x: -device {"a":1} {}: Expecting at most one JSON value')
    expect(qemuJsonParse("{'driver':'vfio-ap'}")).toEqual({driver: 'vfio-ap'})
  })
  it('ids: identifiers only, no duplicates among -device options', () => {
    const e = qerr(() => parse(['-device', 'vfio-ap,id=1x']))
    expect(e.lines).toEqual([
      "qemu-system-s390x: -device vfio-ap,id=1x: Parameter 'id' expects an identifier",
      "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
    ])
    expect(qerr(() => parse(['-device', 'vfio-ap,id=a', '-device', 'virtio-blk,id=a'])).message).toBe(
      "qemu-system-s390x: -device virtio-blk,id=a: Duplicate ID 'a' for device",
    )
  })
  it('short-form booleans warn', () => {
    expect(parse([...KVM, '-device', 'virtio-blk,noshare']).warnings).toEqual([
      "qemu-system-s390x: -device virtio-blk,noshare: warning: short-form boolean option 'noshare' deprecated",
      'Please use share=off instead',
    ])
  })
  it('QEMU creates the QemuOpts devices before the JSON ones', () => {
    const p = parse([...KVM, '-device', '{"driver":"vfio-ap","id":"j"}', '-device', 'virtio-rng,id=r'])
    expect(devicesInCreationOrder(p.devices).map((d) => d.id)).toEqual(['r', 'j'])
  })
})

describe('device creation and vfio-ap realize messages', () => {
  const dev = parse([...KVM, '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${UUID},id=hostdev0`]).devices[0]
  it('no ap-bus: ap=off, or a second vfio-ap', () => {
    expect(deviceCreateError(dev, {apBus: false, apBusOccupied: false})).toEqual({msg: noApBus()})
    expect(deviceCreateError(dev, {apBus: true, apBusOccupied: true})).toEqual({msg: "No 'ap-bus' bus found for device 'vfio-ap'"})
    expect(startupDeviceError(dev, noApBus())).toEqual([
      `qemu-system-s390x: -device vfio-ap,sysfsdev=/sys/bus/mdev/devices/${UUID},id=hostdev0: No 'ap-bus' bus found for device 'vfio-ap'`,
    ])
    expect(hmpError(noApBus())).toEqual(["Error: No 'ap-bus' bus found for device 'vfio-ap'"])
    expect(libvirtQmpError('device_add', noApBus())).toBe(
      "internal error: unable to execute QEMU command 'device_add': No 'ap-bus' bus found for device 'vfio-ap'",
    )
  })
  it('explicit bus, duplicate ids, unknown properties, missing driver', () => {
    const withBus = {...dev, bus: 'ap-bus'}
    expect(deviceCreateError(withBus, {apBus: false, apBusOccupied: false})).toEqual({msg: busNotFound('ap-bus')})
    expect(deviceCreateError(withBus, {apBus: true, apBusOccupied: true})).toEqual({msg: busFull('ap-bus')})
    expect(busFull('ap-bus')).toBe("Bus 'ap-bus' is full")
    expect(deviceCreateError(dev, {apBus: true, apBusOccupied: false, existingIds: ['hostdev0']})).toEqual({msg: "Duplicate device ID 'hostdev0'"})
    expect(deviceCreateError({...dev, props: {sysfsdev: '/x', foo: '1'}}, {apBus: true, apBusOccupied: false})).toEqual({msg: "Property 'vfio-ap.foo' not found"})
    expect(deviceCreateError({driver: '', props: {}}, {apBus: true, apBusOccupied: false})).toEqual({msg: "Parameter 'driver' is missing"})
    expect(deviceCreateError(dev, {apBus: true, apBusOccupied: false})).toBeNull()
    expect(deviceCreateError({driver: 'vfio-ap', id: '9', json: true, props: {}}, {apBus: true, apBusOccupied: false})).toEqual({
      msg: "Parameter 'id' expects an identifier",
      hint: "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n",
    })
  })
  it('vfio realize texts', () => {
    expect(noSuchHostDevice(`/sys/bus/mdev/devices/${UUID}`)).toBe(`vfio /sys/bus/mdev/devices/${UUID}: no such host device: No such file or directory`)
    expect(noSuchHostDevice(undefined)).toBe('vfio (null): no such host device: Bad address')
    expect(noIommuGroup(`/sys/devices/vfio_ap/matrix/${UUID}/`)).toBe(`vfio ${UUID}: no iommu_group found: No such file or directory`)
    expect(deviceBusy(`/sys/bus/mdev/devices/${UUID}`, 3)).toBe(`vfio ${UUID}: Could not open '/dev/vfio/3': Device or resource busy`)
    expect(deviceFdError(`/sys/bus/mdev/devices/${UUID}`, 3, 'EPERM')).toEqual({
      msg: `vfio ${UUID}: error getting device from group 3: Operation not permitted`,
      hint: 'Verify all devices in group 3 are bound to vfio-<bus> or pci-stub and not already in use\n',
    })
    expect(startupDeviceError(dev, noSuchHostDevice('/x'))).toEqual([`qemu-system-s390x: ${dev.location}: vfio /x: no such host device: No such file or directory`])
  })
})

describe('HMP device_add / device_del', () => {
  it('parses the documented forms', () => {
    expect(parseDeviceAdd(`vfio-ap,sysfsdev=/sys/devices/vfio_ap/matrix/${UUID},id=hostdev0`)).toEqual({
      driver: 'vfio-ap',
      id: 'hostdev0',
      props: {sysfsdev: `/sys/devices/vfio_ap/matrix/${UUID}`},
    })
    expect(parseDeviceAdd(`  "vfio-ap,sysfsdev=/sys/bus/mdev/devices/${UUID},id=hostdev0"  `)).toMatchObject({id: 'hostdev0'})
    expect(parseDeviceAdd('"vfio-ap,sysfsdev=/a\\"b"').props.sysfsdev).toBe('/a"b')
  })
  it('quotes inside a bare word are literal (as typed at the monitor)', () => {
    expect(parseDeviceAdd('vfio-ap,sysfsdev="/sys/x"').props.sysfsdev).toBe('"/sys/x"')
    expect(qerr(() => parseDeviceAdd('vfio-ap,sysfsdev=/x,id="hostdev0"')).lines).toEqual([
      "Parameter 'id' expects an identifier",
      "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
      'Try "help device_add" for more information',
    ])
  })
  it('monitor error texts', () => {
    expect(qerr(() => parseDeviceAdd('')).message).toBe("Error: Parameter 'driver' is missing")
    expect(qerr(() => parseDeviceAdd('id=x')).message).toBe("Error: Parameter 'driver' is missing")
    expect(qerr(() => parseDeviceAdd('vfio-ap,id=a extra')).lines).toEqual([
      'device_add: extraneous characters at the end of line',
      'Try "help device_add" for more information',
    ])
    const e = qerr(() => parseDeviceAdd('"vfio-ap,id=a'))
    expect(e.lines).toEqual(['Try "help device_add" for more information'])
    expect(e.stdout).toBe('unterminated string\n')
    expect(parseDeviceAddFull('vfio-ap,id=a,x').monitor).toEqual(["warning: short-form boolean option 'x' deprecated", 'Please use x=on instead'])
  })
  it('device_del', () => {
    expect(parseDeviceDel('hostdev0')).toBe('hostdev0')
    expect(parseDeviceDel(' "hostdev0" ')).toBe('hostdev0')
    expect(qerr(() => parseDeviceDel('')).lines).toEqual(['device_del: string expected', 'Try "help device_del" for more information'])
    expect(qerr(() => parseDeviceDel('a b')).lines).toEqual(['device_del: extraneous characters at the end of line', 'Try "help device_del" for more information'])
    expect(hmpError(deviceNotFound('hostdev1'))).toEqual(["Error: Device 'hostdev1' not found"])
  })
})

describe('migration texts', () => {
  it('QEMU and libvirt', () => {
    expect(VFIO_AP_VMSTATE_ID).toBe('/1/vfio-ap')
    expect(NON_MIGRATABLE()).toBe("State blocked by non-migratable device '/1/vfio-ap'")
    expect(hmpError(NON_MIGRATABLE())).toEqual(["Error: State blocked by non-migratable device '/1/vfio-ap'"])
    expect(NON_MIGRATABLE_REASON()).toBe('non-migratable device: /1/vfio-ap')
    expect(libvirtMigrationBlocked()).toBe('Requested operation is not valid: cannot migrate domain: non-migratable device: /1/vfio-ap')
    expect(LIBVIRT_MDEV_NOT_MIGRATABLE).toBe("Operation not supported: cannot migrate a domain with <hostdev mode='subsystem' type='mdev'>")
  })
})

describe('mdevUuidFromSysfsdev', () => {
  it('every path form of the documentation', () => {
    for (const p of [
      `/sys/bus/mdev/devices/${UUID}`,
      `/sys/devices/vfio_ap/matrix/${UUID}`,
      `/sys/devices/vfio_ap/matrix/${UUID}/`,
      `/sys/bus/mdev/drivers/vfio_ap_mdev/${UUID}`,
      `/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/devices/${UUID}`,
      `"/sys/bus/mdev/devices/${UUID}"`,
      `'/sys/devices/vfio_ap/matrix/${UUID}//'`,
      `/sys//bus/mdev/./devices/${UUID}`,
    ]) {
      expect(mdevUuidFromSysfsdev(p)).toBe(UUID)
    }
  })
  it('null for anything else', () => {
    expect(mdevUuidFromSysfsdev(`/sys/bus/pci/devices/${UUID}`)).toBeNull()
    expect(mdevUuidFromSysfsdev(`sys/bus/mdev/devices/${UUID}`)).toBeNull()
    expect(mdevUuidFromSysfsdev('/sys/bus/mdev/devices/not-a-uuid')).toBeNull()
    expect(mdevUuidFromSysfsdev(`/sys/bus/mdev/devices/${UUID}/remove`)).toBeNull()
    expect(mdevUuidFromSysfsdev(`"/sys/bus/mdev/devices/${UUID}'`)).toBeNull()
    // The generic vfio_mdev driver is gone since Linux 5.16: the emulated /sys has no such path.
    expect(mdevUuidFromSysfsdev(`/sys/bus/mdev/drivers/vfio_mdev/${UUID}`)).toBeNull()
    // sysfs is case-sensitive and names mdevs in lower case.
    expect(mdevUuidFromSysfsdev(`/sys/bus/mdev/devices/${UUID.toUpperCase()}`)).toBeNull()
  })
})
