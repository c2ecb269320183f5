// The kernel documentation's live migration of a guest with AP queues,
// through the built binaries: virsh detach-device, virsh migrate, virsh
// attach-device on the target, and what the guest's lszcrypt shows.

import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'

import {U, domainXml, hostdevXml} from './lab.js'

const ROOT = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'aplab-virsh-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const state = join(dir, 'state.yaml')
async function run(name: string, ...args: string[]) {
  const r = await execa(join(ROOT, 'bin', `${name}.js`), args, {
    cwd: dir,
    reject: false,
    env: {APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: '', SYSFS_ROOT: '', LIBVIRT_DEFAULT_URI: ''},
    stripFinalNewline: false,
  })
  return {stdout: r.stdout as string, stderr: r.stderr as string, code: r.exitCode}
}
async function ok(name: string, ...args: string[]): Promise<string> {
  const r = await run(name, ...args)
  expect(r.stderr, `${name} ${args.join(' ')}`).toBe('')
  expect(r.code).toBe(0)
  return r.stdout
}

const HEAD = 'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n'
const row = (id: string, type: string, mode: string) => `${id.padEnd(9)}${type} ${mode.padEnd(12)}online            0\n`
const GUEST_VIEW =
  HEAD +
  row('05', 'CEX5C', 'CCA-Coproc') +
  row('05.0004', 'CEX5C', 'CCA-Coproc') +
  row('05.00ab', 'CEX5C', 'CCA-Coproc') +
  row('06', 'CEX5A', 'Accelerator') +
  row('06.0004', 'CEX5A', 'Accelerator') +
  row('06.00ab', 'CEX5A', 'Accelerator')

describe('the kernel documentation\'s migration walk-through with virsh', () => {
  it('detach, migrate, attach on the target; the guest sees its queues before and after', {timeout: 240_000}, async () => {
    await ok('aplab', 'init', '--preset', 'vfio-ap-doc')
    await ok('aplab', 'host', 'add', 'lpar2', '--preset', 'vfio-ap-doc')
    for (const h of ['host0', 'lpar2']) {
      await ok('aplab', '--host', h, 'sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6')
      await ok('aplab', '--host', h, 'sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab,-0xff')
      await ok('aplab', '--host', h, 'mdev', 'create', '--uuid', U)
      await ok('aplab', '--host', h, 'mdev', 'assign', U, '--adapter', '5', '--adapter', '6', '--domain', '4', '--domain', '0xab')
    }
    writeFileSync(join(dir, 'my-guest.xml'), domainXml({name: 'my-guest'}))
    writeFileSync(join(dir, 'my-guest-hostdev.xml'), hostdevXml(U))
    expect(await ok('virsh', 'define', 'my-guest.xml')).toBe("Domain 'my-guest' defined from my-guest.xml\n\n")
    expect(await ok('virsh', 'start', 'my-guest')).toBe("Domain 'my-guest' started\n\n")
    expect(await ok('aplab', 'guest', 'exec', 'my-guest', '--', 'lszcrypt')).toBe(GUEST_VIEW)

    expect(await run('virsh', 'migrate', '--live', 'my-guest', 'qemu+ssh://lpar2/system')).toEqual({
      stdout: '\n',
      stderr: 'error: Requested operation is not valid: cannot migrate domain: non-migratable device: /1/vfio-ap\n',
      code: 1,
    })
    expect(await ok('virsh', 'detach-device', 'my-guest', 'my-guest-hostdev.xml')).toBe('Device detached successfully\n\n')
    expect(await ok('virsh', 'migrate', '--live', 'my-guest', 'qemu+ssh://lpar2/system')).toBe('\n')
    expect(await ok('virsh', 'list', '--all')).toBe(' Id   Name       State\n---------------------------\n -    my-guest   shut off\n\n')
    expect(await ok('virsh', '-c', 'qemu+ssh://lpar2/system', 'list')).toBe(' Id   Name       State\n--------------------------\n 1    my-guest   running\n\n')
    expect(await ok('virsh', '-c', 'qemu+ssh://lpar2/system', 'attach-device', 'my-guest', 'my-guest-hostdev.xml')).toBe('Device attached successfully\n\n')
    expect(await ok('aplab', 'guest', 'exec', 'my-guest', '--', 'lszcrypt')).toBe(GUEST_VIEW)
    expect(await ok('aplab', 'virsh', '-c', 'qemu+ssh://lpar2/system', 'domstate', '--reason', 'my-guest')).toBe('running (migrated)\n\n')
  })
})
