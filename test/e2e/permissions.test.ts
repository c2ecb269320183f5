// $APLAB_UID through the built binaries: every path refuses a user where the
// kernel demands root, with the real tool's text or one line of aplab's, and
// a refusal keeps the kernel's log lines and nothing else.

import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')
const DIR = mkdtempSync(join(tmpdir(), 'aplab-perm-e2e-'))
afterAll(() => rmSync(DIR, {recursive: true, force: true}))

const U = '11111111-1111-4111-8111-111111111111'
const V = '22222222-2222-4222-8222-222222222222'

function sandbox(name: string) {
  const state = join(DIR, `${name}.yaml`)
  const run = async (uid: string, bin: string, ...args: string[]) => {
    const r = await execa(join(ROOT, 'bin', `${bin}.js`), args, {reject: false, env: {APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: uid, SYSFS_ROOT: ''}, stripFinalNewline: false})
    return {stdout: r.stdout as string, stderr: r.stderr as string, code: r.exitCode}
  }
  const root = async (...args: string[]) => {
    const r = await run('', 'aplab', ...args)
    expect(r.stderr, args.join(' ')).toBe('')
    expect(r.code).toBe(0)
    return r.stdout
  }
  const user = (...args: string[]) => run('1000', 'aplab', ...args)
  return {state, run, root, user}
}

describe('a user of the host', () => {
  it('is refused where root is needed, and what was refused changes nothing', async () => {
    const s = sandbox('user')
    await root(s)
    const text = readFileSync(s.state, 'utf8')
    expect(await s.user('mdev', 'create', '-u', V)).toEqual({
      stdout: '',
      stderr: `aplab: cannot create mdev ${V}: Permission denied (EACCES): only root may write /sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create\n`,
      code: 1,
    })
    expect(await s.user('mdev', 'assign', U, '--domain', '0x47')).toEqual({
      stdout: '',
      stderr: `aplab: cannot assign domain 0x47 to mdev ${U}: Permission denied (EACCES): only root may write /sys/devices/vfio_ap/matrix/${U}/assign_domain\n`,
      code: 1,
    })
    expect(await s.user('dmesg', '-C')).toEqual({stdout: '', stderr: 'dmesg: clear kernel buffer failed: Operation not permitted\n', code: 1})
    expect(await s.user('modprobe', '-r', 'vfio_ap')).toEqual({stdout: '', stderr: "modprobe: ERROR: could not remove 'vfio_ap': Operation not permitted\n", code: 1})
    expect(await s.user('host', 'reboot')).toEqual({
      stdout: '',
      stderr: 'aplab: cannot reboot host host0: Operation not permitted (EPERM): only root may reboot (CAP_SYS_BOOT)\n',
      code: 1,
    })
    const dev = `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U},id=vfio0`
    expect(await s.user('guest', 'start', 'g1', '--', '-cpu', 'host,ap=on', '-device', dev)).toEqual({
      stdout: '',
      stderr: `qemu-system-s390x: -device ${dev}: vfio ${U}: Could not open '/dev/vfio/0': Permission denied\n`,
      code: 1,
    })
    expect(await s.run('1000', 'aplab', 'sysfs', 'write', '/sys/bus/ap/apmask', '+5')).toEqual({
      stdout: '',
      stderr: 'aplab: /sys/bus/ap/apmask: Permission denied\n',
      code: 1,
    })
    expect(readFileSync(s.state, 'utf8')).toBe(text)
  })
})

describe('a refused aplab mdev assign', () => {
  it('logs what the kernel logs, as the same sysfs write does, and keeps nothing else', async () => {
    const s = sandbox('log')
    await root(s)
    await s.root('mdev', 'create', '-u', V)
    const conflict = (apqn: string) => `vfio_ap_mdev ${V}: Userspace may not assign queue ${apqn} to mdev: already assigned to ${U}\n`
    const log = async () => (await s.root('dmesg')).split(/(?<=\n)/).map((l) => l.replace(/^\[[ \d.]+\] /, ''))
    const before = await log()
    expect(await s.run('', 'aplab', 'mdev', 'assign', V, '--adapter', '6', '--adapter', '5', '--domain', '4')).toEqual({
      stdout: '',
      stderr: `aplab: cannot assign domain 4 to mdev ${V}: Address already in use (EADDRINUSE): an APQN it would add is assigned to another mdev (aplab dmesg names it)\n`,
      code: 1,
    })
    // One line per APQN the domain would share: U has adapters 5 and 6.
    expect(await log()).toEqual([...before, conflict('05.0004'), conflict('06.0004')])
    expect(await s.root('sysfs', 'cat', `/sys/devices/vfio_ap/matrix/${V}/matrix`)).toBe('')
    // The same refusal written to sysfs (adapter 5 only this time) logs the same kind of line.
    await s.root('sysfs', 'write', `/sys/devices/vfio_ap/matrix/${V}/assign_adapter`, '5')
    expect(await s.run('', 'aplab', 'sysfs', 'write', `/sys/devices/vfio_ap/matrix/${V}/assign_domain`, '4')).toEqual({
      stdout: '',
      stderr: 'aplab: echo: write error: Address already in use\n',
      code: 1,
    })
    expect(await log()).toEqual([...before, conflict('05.0004'), conflict('06.0004'), conflict('05.0004')])
  })
})

/** The kernel documentation's host with mdev U: adapters 5 and 6, domains 4 and 0xab, freed for vfio_ap. */
async function root(s: ReturnType<typeof sandbox>): Promise<void> {
  await s.root('init', '--preset', 'vfio-ap-doc', '--force')
  await s.root('sysfs', 'write', '/sys/bus/ap/apmask', '-5,-6')
  await s.root('sysfs', 'write', '/sys/bus/ap/aqmask', '-4,-0xab')
  await s.root('mdev', 'create', '-u', U)
  await s.root('mdev', 'assign', U, '--adapter', '5', '--adapter', '6', '--domain', '4', '--domain', '0xab')
}
