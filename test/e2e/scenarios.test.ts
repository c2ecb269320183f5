// End-to-end scenarios of the guests issue, through the built binaries:
// the three-guest example, hot plug of a domain, an adapter configured off
// and on at the LPAR, a reboot with persistent and transient configuration
// mixed, and migration with detach and re-attach.

import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

function sandbox() {
  const state = join(mkdtempSync(join(tmpdir(), 'aplab-scn-')), 'state.yaml')
  const run = async (name: string, ...args: string[]) => {
    const r = await execa(join(ROOT, 'bin', `${name}.js`), args, {reject: false, env: {APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: '', SYSFS_ROOT: ''}, stripFinalNewline: false})
    return {stdout: r.stdout as string, stderr: r.stderr as string, code: r.exitCode}
  }
  const ok = async (name: string, ...args: string[]) => {
    const r = await run(name, ...args)
    expect(r.stderr, `${name} ${args.join(' ')}`).toBe('')
    expect(r.code).toBe(0)
    return r.stdout
  }
  return {state, run, ok}
}

const U1 = '11111111-1111-4111-8111-111111111111'
const U2 = '22222222-2222-4222-8222-222222222222'
const CPU = 'host,ap=on,apqci=on,apft=on,apqi=on'
const dev = (u: string, id = 'vfio0') => `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${u},id=${id}`
const HEAD = 'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n'
const row = (id: string, type: string, mode: string, status = 'online') => `${id.padEnd(9)}${type} ${mode.padEnd(12)}${status.padEnd(10)}        0\n`

async function docHost(s: ReturnType<typeof sandbox>) {
  await s.ok('aplab', 'init', '--preset', 'vfio-ap-doc')
  await s.ok('aplab', 'sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6')
  await s.ok('aplab', 'sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab,-0xff')
}

describe.concurrent('guest scenarios', () => {
  it('the three-guest example: each guest lists its queues', async () => {
    const s = sandbox()
    await docHost(s)
    const uuids = ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003']
    const matrix = [
      ['5', '6', '4', '0xab'],
      ['5', '0x47', '0xff'],
      ['6', '0x47', '0xff'],
    ]
    for (const [i, u] of uuids.entries()) {
      await s.ok('aplab', 'mdev', 'create', '--uuid', u)
      const [a, ...rest] = matrix[i]
      const adapters = i === 0 ? [a, rest.shift()!] : [a]
      await s.ok('aplab', 'mdev', 'assign', u, ...adapters.flatMap((x) => ['--adapter', x]), ...rest.flatMap((d) => ['--domain', d]))
      await s.ok('aplab', 'guest', 'start', `guest${i + 1}`, '--', '-cpu', CPU, '-device', dev(u))
    }
    expect(await s.ok('aplab', 'guest', 'exec', 'guest1', '--', 'lszcrypt')).toBe(
      HEAD + row('05', 'CEX5C', 'CCA-Coproc') + row('05.0004', 'CEX5C', 'CCA-Coproc') + row('05.00ab', 'CEX5C', 'CCA-Coproc') +
        row('06', 'CEX5A', 'Accelerator') + row('06.0004', 'CEX5A', 'Accelerator') + row('06.00ab', 'CEX5A', 'Accelerator'),
    )
    expect(await s.ok('aplab', 'guest', 'exec', 'guest2', '--', 'lszcrypt')).toBe(HEAD + row('05', 'CEX5C', 'CCA-Coproc') + row('05.0047', 'CEX5C', 'CCA-Coproc') + row('05.00ff', 'CEX5C', 'CCA-Coproc'))
    expect(await s.ok('aplab', 'guest', 'exec', 'guest3', '--', 'lszcrypt')).toBe(HEAD + row('06', 'CEX5A', 'Accelerator') + row('06.0047', 'CEX5A', 'Accelerator') + row('06.00ff', 'CEX5A', 'Accelerator'))
    expect(await s.ok('aplab', 'sysfs', 'cat', '/sys/bus/ap/devices/05.0004/status')).toBe('in use\n')
  })

  it('hot plug of a domain into a running guest, and QEMU refusals that change nothing', async () => {
    const s = sandbox()
    await docHost(s)
    await s.ok('aplab', 'mdev', 'create', '--uuid', U1)
    await s.ok('aplab', 'mdev', 'assign', U1, '--adapter', '5', '--domain', '4')
    await s.ok('aplab', 'guest', 'start', 'g', '--', '-cpu', CPU, '-m', '2G', '-nographic', '-device', dev(U1))
    expect(await s.ok('aplab', 'guest', 'exec', 'g', '--', 'lszcrypt')).toBe(HEAD + row('05', 'CEX5C', 'CCA-Coproc') + row('05.0004', 'CEX5C', 'CCA-Coproc'))
    await s.ok('aplab', 'mdev', 'assign', U1, '--domain', '0x47')
    expect(await s.ok('aplab', 'guest', 'exec', 'g', '--', 'lszcrypt', '05.0047')).toBe(HEAD + row('05.0047', 'CEX5C', 'CCA-Coproc'))
    const before = readFileSync(s.state)
    const busy = await s.run('aplab', 'guest', 'start', 'h', '--', '-cpu', 'z13,apqci=on', '-device', dev(U1))
    expect(busy.stderr).toBe(
      "qemu-system-s390x: warning: 'apqci' requires 'ap'.\n" +
        `qemu-system-s390x: -device ${dev(U1)}: No 'ap-bus' bus found for device 'vfio-ap'\n`,
    )
    expect(busy.code).toBe(1)
    const taken = await s.run('aplab', 'guest', 'start', 'h', '--', '-cpu', CPU, '-device', dev(U1))
    expect(taken.stderr).toBe(`qemu-system-s390x: -device ${dev(U1)}: vfio ${U1}: Could not open '/dev/vfio/0': Device or resource busy\n`)
    const missing = await s.run('aplab', 'guest', 'start', 'h', '--', '-cpu', CPU, '-device', dev(U2))
    expect(missing.stderr).toBe(`qemu-system-s390x: -device ${dev(U2)}: vfio /sys/bus/mdev/devices/${U2}: no such host device: No such file or directory\n`)
    const old = await s.run('aplab', 'guest', 'start', 'h', '--', '-cpu', 'z196,ap=on')
    expect(old.stderr).toBe(
      "qemu-system-s390x: can't apply global z196-s390x-cpu.ap=on: Feature 'ap' is not available for CPU model 'z196', it was introduced with later models.\n",
    )
    expect(readFileSync(s.state).equals(before)).toBe(true)
  })

  it('an adapter configured off and on at the LPAR', async () => {
    const s = sandbox()
    await docHost(s)
    await s.ok('aplab', 'mdev', 'create', '--uuid', U1)
    await s.ok('aplab', 'mdev', 'assign', U1, '--adapter', '5', '--adapter', '6', '--domain', '4')
    await s.ok('aplab', 'guest', 'start', 'g', '--', '-cpu', CPU, '-device', dev(U1))
    await s.ok('aplab', 'hw', 'adapter', 'remove', '6')
    expect(await s.ok('aplab', 'guest', 'exec', 'g', '--', 'lszcrypt')).toBe(HEAD + row('05', 'CEX5C', 'CCA-Coproc') + row('05.0004', 'CEX5C', 'CCA-Coproc'))
    await s.ok('aplab', 'hw', 'adapter', 'add', '6', '--type', 'CEX5A')
    expect(await s.ok('aplab', 'guest', 'exec', 'g', '--', 'lszcrypt', '06')).toBe(HEAD + row('06', 'CEX5A', 'Accelerator') + row('06.0004', 'CEX5A', 'Accelerator'))
  })

  it('reboot: persistent configuration comes back, transient is gone, autostart guests start', async () => {
    const s = sandbox()
    await s.ok('aplab', 'init', '--preset', 'vfio-ap-doc')
    await s.ok('chzdev', '-t', 'ap', '-p', 'apmask=-5,-6', 'aqmask=-4,-0x47')
    await s.ok('aplab', 'sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6')
    await s.ok('aplab', 'sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab')
    await s.ok('mdevctl', 'define', '-u', U1, '-p', 'matrix', '-t', 'vfio_ap-passthrough')
    await s.ok('mdevctl', 'modify', '-u', U1, '--addattr', 'assign_adapter', '--value', '5')
    await s.ok('mdevctl', 'modify', '-u', U1, '--addattr', 'assign_domain', '--value', '4')
    await s.ok('mdevctl', 'modify', '-u', U1, '--auto')
    await s.ok('mdevctl', 'start', '-u', U1)
    await s.ok('aplab', 'mdev', 'create', '--uuid', U2)
    await s.ok('aplab', 'guest', 'start', '--autostart', 'keeper', '--', '-cpu', CPU, '-device', dev(U1, 'ap0'))
    await s.ok('aplab', 'guest', 'start', 'transient', '--', '-cpu', CPU, '-device', dev(U2))
    const r = await s.run('aplab', 'host', 'reboot')
    expect([r.stderr, r.code]).toEqual(['', 0])
    // From 41-ap.rules: domains 4 and 0x47 free, 0xab (freed by hand) back with the host.
    expect(await s.ok('aplab', 'sysfs', 'cat', '/sys/bus/ap/aqmask')).toBe('0xf' + '7' + 'f'.repeat(15) + 'e' + 'f'.repeat(46) + '\n')
    expect(await s.ok('mdevctl', 'list')).toBe(`${U1} matrix vfio_ap-passthrough auto (defined)\n`)
    const list = await s.ok('aplab', 'guest', 'list', '--json')
    const guests = JSON.parse(list) as Array<{name: string; state: string; apqns: string[]}>
    expect(guests.map((g) => [g.name, g.state, g.apqns])).toEqual([
      ['keeper', 'running', ['05.0004']],
      ['transient', 'shut off', []],
    ])
  })

  it('migration: refused with the device, allowed after device-del, re-attached on the target', async () => {
    const s = sandbox()
    await docHost(s)
    await s.ok('aplab', 'host', 'add', 'lpar2', '--preset', 'vfio-ap-doc')
    await s.ok('aplab', 'mdev', 'create', '--uuid', U1)
    await s.ok('aplab', 'mdev', 'assign', U1, '--adapter', '5', '--domain', '4')
    await s.ok('aplab', 'guest', 'start', 'g', '--', '-cpu', CPU, '-device', dev(U1))
    const refused = await s.run('aplab', 'guest', 'migrate', 'g', '--to', 'lpar2')
    expect([refused.stderr, refused.code]).toEqual(["Error: State blocked by non-migratable device '/1/vfio-ap'\n", 1])
    await s.ok('aplab', 'guest', 'device-del', 'g', 'vfio0')
    await s.ok('aplab', 'guest', 'migrate', 'g', '--to', 'lpar2')
    await s.ok('aplab', '--host', 'lpar2', 'sysfs', 'write', '/sys/bus/ap/apmask', '--', '-6')
    await s.ok('aplab', '--host', 'lpar2', 'sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-0xab')
    await s.ok('aplab', '--host', 'lpar2', 'mdev', 'create', '--uuid', U2)
    await s.ok('aplab', '--host', 'lpar2', 'mdev', 'assign', U2, '--adapter', '6', '--domain', '0xab')
    const wrong = await s.run('aplab', 'guest', 'device-add', 'g', dev(U1))
    expect(wrong.stderr).toBe(`Error: vfio /sys/bus/mdev/devices/${U1}: no such host device: No such file or directory\n`)
    await s.ok('aplab', 'guest', 'device-add', 'g', dev(U2))
    // The guest kernel keeps the default domain it chose at boot (04), which it no longer has.
    expect(await s.ok('aplab', 'guest', 'exec', 'g', '--', 'lszcrypt')).toBe(
      HEAD + row('06', 'CEX5A', 'Accelerator') + row('06.00ab', 'CEX5A', 'Accelerator') + 'Warning: Default domain 0x04 is not available.\n',
    )
    const lib = await s.run('aplab', 'guest', 'start', '--libvirt', 'dom', '--', '-cpu', CPU, '-device', dev(U1))
    expect(lib.code).toBe(0)
    const l = await s.run('aplab', 'guest', 'migrate', 'dom', '--to', 'lpar2')
    expect(l.stderr).toBe('error: Requested operation is not valid: cannot migrate domain: non-migratable device: /1/vfio-ap\n')
  })
})
