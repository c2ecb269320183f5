// Paused guests through the built binaries: a guest started with QEMU's -S
// (prelaunch: its device open, no kernel), aplab guest pause and resume,
// exec refused while paused, what list and show say, reset, migration and a
// host reboot of a paused guest, and run_state in the state file.

import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

function sandbox() {
  const state = join(mkdtempSync(join(tmpdir(), 'aplab-paused-')), 'state.yaml')
  const run = async (...args: string[]) => {
    const r = await execa(join(ROOT, 'bin', 'aplab.js'), args, {reject: false, env: {APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: '', SYSFS_ROOT: ''}, stripFinalNewline: false})
    return {stdout: r.stdout as string, stderr: r.stderr as string, code: r.exitCode}
  }
  const ok = async (...args: string[]) => {
    const r = await run(...args)
    expect(r.stderr, args.join(' ')).toBe('')
    expect(r.code).toBe(0)
    return r.stdout
  }
  return {state, run, ok}
}

const U = '11111111-1111-4111-8111-111111111111'
const CPU = 'host,ap=on,apqci=on,apft=on,apqi=on'
const DEV = `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U},id=vfio0`
const HEAD = 'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n'
const row = (id: string) => `${id.padEnd(9)}CEX5C CCA-Coproc  online            0\n`
const LIST = (state: string, apqns: number) =>
  `GUEST  HOST   STATE${' '.repeat(state.length - 3)}DEVICE  MDEV${' '.repeat(34)}APQNS\ng1     host0  ${state}  vfio0   ${U}  ${apqns}\n`
const PRELAUNCH = "aplab: guest 'g1' is paused (prelaunch): its CPUs have not run yet, so it has no kernel to run a command in (aplab guest resume g1)\n"
const PAUSED = "aplab: guest 'g1' is paused: its CPUs run nothing, so no command runs in it (aplab guest resume g1)\n"

async function pausedGuest() {
  const s = sandbox()
  await s.ok('init', '--preset', 'vfio-ap-doc')
  await s.ok('sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6')
  await s.ok('sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab,-0xff')
  await s.ok('mdev', 'create', '--uuid', U)
  await s.ok('mdev', 'assign', U, '--adapter', '5', '--domain', '4')
  expect(await s.run('guest', 'start', 'g1', '--', '-S', '-cpu', CPU, '-device', DEV)).toEqual({stdout: '', stderr: '', code: 0})
  return s
}

describe.concurrent('paused guests', () => {
  it('-S: paused in prelaunch with its mdev in use and its APCB, no kernel until resume; hot plug meanwhile', async () => {
    const s = await pausedGuest()
    expect(await s.ok('guest', 'list')).toBe(LIST('paused', 1))
    expect(await s.ok('guest', 'show', 'g1')).toBe(
      'name:            g1\nhost:            host0\nstate:           paused (prelaunch)\nmanaged by:      qemu\ncpu:             host,ap=on,apqci=on,apft=on,apqi=on\n' +
        `vfio-ap device:  vfio0 /sys/bus/mdev/devices/${U}\napqns:           05.0004\ncontrol domains: -\n`,
    )
    const shown = JSON.parse(await s.ok('guest', 'show', 'g1', '--json'))
    expect([shown.state, shown.run_state]).toEqual(['paused', 'prelaunch'])
    expect(await s.ok('sysfs', 'cat', '/sys/bus/ap/devices/05.0004/status')).toBe('in use\n')
    expect(await s.ok('host', 'show')).toContain('guests:          g1 (paused)\n')
    expect(readFileSync(s.state, 'utf8')).toContain('    run_state: prelaunch\n')
    for (const cmd of [['lszcrypt'], ['dmesg'], ['cat', '/sys/bus/ap/ap_domain']]) expect(await s.run('guest', 'exec', 'g1', '--', ...cmd)).toEqual({stdout: '', stderr: PRELAUNCH, code: 1})
    // The mdev's changes reach the APCB at once; the kernel boots with what it finds.
    await s.ok('mdev', 'assign', U, '--domain', '0x47')
    expect(await s.ok('guest', 'resume', 'g1')).toBe('')
    expect(await s.ok('guest', 'list')).toBe(LIST('running', 2))
    expect(await s.ok('guest', 'exec', 'g1', '--', 'lszcrypt')).toBe(HEAD + row('05') + row('05.0004') + row('05.0047'))
    expect(readFileSync(s.state, 'utf8')).not.toContain('run_state')
    // Resuming a running guest changes nothing.
    expect(await s.ok('guest', 'resume', 'g1')).toBe('')
  })

  it('pause keeps the kernel, which runs nothing; the guest sees what changed when it resumes; reset leaves it in prelaunch', async () => {
    const s = await pausedGuest()
    await s.ok('guest', 'resume', 'g1')
    await s.ok('guest', 'exec', 'g1', '--', 'chzcrypt', '-d', '05.0004')
    expect(await s.ok('guest', 'pause', 'g1')).toBe('')
    expect(await s.ok('guest', 'pause', 'g1')).toBe('')
    expect(await s.ok('guest', 'show', 'g1')).toContain('state:           paused\n')
    expect(JSON.parse(await s.ok('guest', 'list', '--json'))[0].run_state).toBe('paused')
    expect(await s.run('guest', 'exec', 'g1', '--', 'lszcrypt')).toEqual({stdout: '', stderr: PAUSED, code: 1})
    await s.ok('mdev', 'assign', U, '--domain', '0x47')
    await s.ok('guest', 'resume', 'g1')
    // Its kernel went on: 05.0004 is still offline there, 05.0047 is new.
    expect(await s.ok('guest', 'exec', 'g1', '--', 'lszcrypt')).toBe(HEAD + row('05') + row('05.0004').replace('online ', 'offline') + row('05.0047'))
    await s.ok('guest', 'pause', 'g1')
    await s.ok('guest', 'reset', 'g1')
    expect(await s.ok('guest', 'show', 'g1')).toContain('state:           paused (prelaunch)\n')
    await s.ok('guest', 'resume', 'g1')
    expect(await s.ok('guest', 'exec', 'g1', '--', 'lszcrypt')).toBe(HEAD + row('05') + row('05.0004') + row('05.0047'))
  })

  it('a paused guest migrates paused; a host reboot ends it as a running one; pause and resume of a stopped guest are refused', async () => {
    const s = await pausedGuest()
    await s.ok('host', 'add', 'lpar2', '--preset', 'vfio-ap-doc')
    await s.ok('guest', 'device-del', 'g1', 'vfio0')
    await s.ok('guest', 'migrate', 'g1', '--to', 'lpar2')
    expect(JSON.parse(await s.ok('guest', 'show', 'g1', '--json'))).toMatchObject({host: 'lpar2', state: 'paused', run_state: 'prelaunch'})
    await s.ok('--host', 'lpar2', 'host', 'reboot')
    expect(JSON.parse(await s.ok('guest', 'show', 'g1', '--json'))).toMatchObject({state: 'shut off', run_state: null})
    for (const cmd of ['pause', 'resume']) expect(await s.run('guest', cmd, 'g1')).toEqual({stdout: '', stderr: "aplab: guest 'g1' is not running (aplab guest start g1)\n", code: 1})
    expect(await s.run('guest', 'pause', 'nosuch')).toEqual({stdout: '', stderr: "aplab: no guest named 'nosuch' (aplab guest list shows them)\n", code: 1})
    // Started again with -S: prelaunch again.
    await s.ok('guest', 'start', '--host', 'lpar2', 'g1', '--', '-S', '-cpu', CPU)
    expect(JSON.parse(await s.ok('guest', 'show', 'g1', '--json')).run_state).toBe('prelaunch')
  })

  it('run_state in the state file: a wrong value or one on a stopped guest is refused with the file and field', async () => {
    const s = await pausedGuest()
    const text = readFileSync(s.state, 'utf8')
    writeFileSync(s.state, text.replace('run_state: prelaunch', 'run_state: frozen'))
    expect(await s.run('guest', 'list')).toEqual({
      stdout: '',
      stderr: `aplab: ${s.state}: hosts[0].guests[0].run_state: expected running, prelaunch or paused, found 'frozen'\n`,
      code: 1,
    })
    writeFileSync(s.state, text.replace('running: true', 'running: false'))
    expect(await s.run('guest', 'list')).toEqual({
      stdout: '',
      stderr: `aplab: ${s.state}: hosts[0].guests[0].run_state: guest 'g1' is not running, so it cannot be prelaunch\n`,
      code: 1,
    })
    // Nor does a stopped guest's CPUs run: no run_state at all, not even running.
    writeFileSync(s.state, text.replace('running: true', 'running: false').replace('run_state: prelaunch', 'run_state: running'))
    expect(await s.run('guest', 'list')).toEqual({
      stdout: '',
      stderr: `aplab: ${s.state}: hosts[0].guests[0].run_state: guest 'g1' is not running, so it has no run state (found 'running')\n`,
      code: 1,
    })
    // running is what an absent run_state means.
    writeFileSync(s.state, text.replace('run_state: prelaunch', 'run_state: running'))
    expect(await s.ok('guest', 'list')).toBe(LIST('running', 1))
  })
})
