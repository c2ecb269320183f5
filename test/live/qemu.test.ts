// The qemu-system-s390x drop-in as a process: the built binary, spawned as
// a script would run it (node scripts/build.mjs first).

import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import * as net from 'node:net'
import {hostname} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import YAML from 'yaml'
import {afterAll, describe, expect, it} from 'vitest'

import {ROOT, bin, cleanSandboxes, sandbox, type Sandbox} from './helpers.js'

afterAll(cleanSandboxes)

const U = '11111111-1111-4111-8111-111111111111'
const U2 = '22222222-2222-4222-8222-222222222222'
const CPU = 'host,ap=on,apqci=on,apft=on,apqi=on'
const SYSFSDEV = `/sys/bus/mdev/devices/${U}`
const LIST_HEAD = 'GUEST  HOST   STATE     DEVICE  MDEV  APQNS\n'

/** The vfio-ap documentation's host with its queues given to vfio_ap and one mdev holding 05.0004. */
async function labHost(): Promise<Sandbox> {
  const s = sandbox()
  for (const args of [
    ['init', '--preset', 'vfio-ap-doc'],
    ['sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6'],
    ['sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab,-0xff'],
    ['mdev', 'create', '--uuid', U],
    ['mdev', 'assign', U, '--adapter', '5', '--domain', '4'],
  ]) {
    const r = await s.run('aplab', args)
    expect(r.exitCode, r.stderr).toBe(0)
  }
  return s
}

const guestList = async (s: Sandbox): Promise<string> => (await s.run('aplab', ['guest', 'list'])).stdout

/** Wait until a process is gone (or a zombie): the kernel has closed what it held. */
async function gone(pid: number): Promise<void> {
  for (;;) {
    let st: string
    try {
      st = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      return
    }
    if (/\) [ZX] /.test(st)) return
    await new Promise((r) => setImmediate(r))
  }
}

/** A QMP client on a unix socket: send one JSON text, get the lines up to the next reply. */
async function qmpClient(path: string): Promise<{greeting: string; ask: (req: string) => Promise<string[]>; next: () => Promise<string[]>; closed: Promise<void>; end: () => void}> {
  const sock = net.connect(path)
  let buf = ''
  const waiting: Array<() => void> = []
  sock.setEncoding('utf8')
  sock.on('data', (d: string) => {
    buf += d
    for (const w of waiting.splice(0)) w()
  })
  const closed = new Promise<void>((r) => sock.on('close', () => r()))
  const line = async (): Promise<string> => {
    while (!buf.includes('\r\n')) await new Promise<void>((r) => waiting.push(r))
    const i = buf.indexOf('\r\n')
    const l = buf.slice(0, i)
    buf = buf.slice(i + 2)
    return l
  }
  const greeting = await line()
  const ask = async (req: string): Promise<string[]> => {
    sock.write(req + '\n')
    const got: string[] = []
    for (;;) {
      const l = await line()
      got.push(l)
      if (!l.startsWith('{"timestamp"')) return got
    }
  }
  /** The next line the monitor sends by itself (an event), as a list like ask's. */
  const next = async (): Promise<string[]> => [await line()]
  return {greeting, ask, next, closed, end: () => sock.end()}
}

/** Event lines with their timestamp replaced, for exact comparison. */
const stamp = (l: string): string => l.replace(/^\{"timestamp": \{"seconds": \d+, "microseconds": \d+\}/, '{"timestamp": T')

describe('qemu-system-s390x drop-in', () => {
  it('runs the guest in the foreground until SIGTERM, which ends it as QEMU does', async () => {
    const s = await labHost()
    const p = execa(bin('qemu-system-s390x'), ['-name', 'guest=g1', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0`, '-monitor', 'stdio'], {
      reject: false,
      env: s.env,
      stripFinalNewline: false,
      input: undefined,
    })
    // The monitor's prompt: the guest runs.
    await new Promise<void>((resolve) => {
      let out = ''
      p.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.endsWith('(qemu) ')) resolve()
      })
    })
    expect(await guestList(s)).toBe(
      'GUEST  HOST   STATE    DEVICE    MDEV                                  APQNS\n' + `g1     host0  running  hostdev0  ${U}  1\n`,
    )
    p.kill('SIGTERM')
    const r = await p
    expect(r.stdout).toBe("QEMU 10.1.0 monitor - type 'help' for more information\r\n(qemu) ")
    // Node sees no sender of a signal: QEMU's text for a sender it cannot name (pid 0).
    expect(r.stderr).toBe('qemu-system-s390x: terminating on signal 15\n')
    expect(r.exitCode).toBe(0)
    // Stopped, it keeps its definition (the device) but holds no queue.
    expect(await guestList(s)).toBe('GUEST  HOST   STATE     DEVICE    MDEV                                  APQNS\n' + `g1     host0  shut off  hostdev0  ${U}  0\n`)
    // The mdev is free again: another guest opens it.
    expect((await s.run('aplab', ['guest', 'start', 'g2', '--', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=${SYSFSDEV}`])).exitCode).toBe(0)
  })

  it('-daemonize returns once the guest runs; a daemon killed with SIGKILL leaves the guest ended for every later command', async () => {
    const s = await labHost()
    const pidfile = join(s.dir, 'qemu.pid')
    const r = await s.run('qemu-system-s390x', ['-name', 'guest=g1', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0`, '-daemonize', '-pidfile', pidfile])
    expect(r).toEqual({stdout: '', stderr: '', exitCode: 0})
    const pid = Number(readFileSync(pidfile, 'utf8'))
    expect(readFileSync(pidfile, 'utf8')).toBe(`${pid}\n`)
    expect(await guestList(s)).toContain(`g1     host0  running  hostdev0  ${U}  1\n`)
    // The mdev is open in g1: a second QEMU is refused with QEMU's text.
    const busy = await s.run('qemu-system-s390x', ['-name', 'guest=g2', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=${SYSFSDEV}`])
    expect(busy.stderr).toMatch(/^qemu-system-s390x: -device vfio-ap,sysfsdev=\/sys\/bus\/mdev\/devices\/1{8}-1{4}-41{3}-81{3}-1{12}: vfio /)
    expect(busy.exitCode).toBe(1)
    process.kill(pid, 'SIGKILL')
    await gone(pid)
    expect(await guestList(s)).toBe('GUEST  HOST   STATE     DEVICE    MDEV                                  APQNS\n' + `g1     host0  shut off  hostdev0  ${U}  0\n`)
    // Seen stopped by a read; saved by the next change, which may now open the mdev.
    expect(readFileSync(s.state, 'utf8')).toContain(`pid: ${pid}`)
    expect((await s.run('aplab', ['guest', 'start', 'g2', '--', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=${SYSFSDEV}`])).exitCode).toBe(0)
    expect(readFileSync(s.state, 'utf8')).not.toContain(`pid: ${pid}`)
    // Guests of aplab guest start have no process and keep running.
    expect(await guestList(s)).toContain(`g2     host0  running   (no id)   ${U}  1\n`)
  })

  it('aplab qemu-system-s390x -daemonize runs the daemon as the drop-in does', async () => {
    const s = await labHost()
    const pidfile = join(s.dir, 'qemu.pid')
    const r = await s.run('aplab', ['qemu-system-s390x', '-name', 'guest=g1', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0`, '-daemonize', '-pidfile', pidfile])
    expect(r).toEqual({stdout: '', stderr: '', exitCode: 0})
    const pid = Number(readFileSync(pidfile, 'utf8'))
    expect(await guestList(s)).toContain(`g1     host0  running  hostdev0  ${U}  1\n`)
    process.kill(pid, 'SIGKILL')
    await gone(pid)
  })

  it('a command that ends the guest (aplab guest stop) ends its process, as killing QEMU would', async () => {
    const s = await labHost()
    const pidfile = join(s.dir, 'qemu.pid')
    expect((await s.run('qemu-system-s390x', ['-name', 'guest=g1', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0`, '-daemonize', '-pidfile', pidfile])).exitCode).toBe(0)
    const pid = Number(readFileSync(pidfile, 'utf8'))
    expect(await s.run('aplab', ['guest', 'stop', 'g1'])).toEqual({stdout: '', stderr: '', exitCode: 0})
    await gone(pid)
    expect(existsSync(pidfile)).toBe(false)
    expect(await guestList(s)).toContain('g1     host0  shut off  hostdev0')
    // Started again by aplab, it has no process.
    expect((await s.run('aplab', ['guest', 'start', 'g1'])).exitCode).toBe(0)
    expect(readFileSync(s.state, 'utf8')).not.toContain('process:')
  })

  it('-monitor stdio: the HMP monitor, scripted', async () => {
    const s = await labHost()
    const input = [
      'info status',
      'info name',
      `device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0`,
      `device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev1`,
      'info qtree',
      'device_del nope',
      'info blah',
      'cont',
      'frobnicate 1',
      'device_del hostdev0',
      'quit',
      'info status',
      '',
    ].join('\n')
    const r = await execa(bin('qemu-system-s390x'), ['-name', 'guest=g1', '-cpu', CPU, '-monitor', 'stdio'], {reject: false, env: s.env, input, stripFinalNewline: false})
    const out = [
      "QEMU 10.1.0 monitor - type 'help' for more information",
      '(qemu) info status',
      'VM status: running',
      '(qemu) info name',
      'g1',
      `(qemu) device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0`,
      `(qemu) device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev1`,
      // The ap-bus holds one device.
      "Error: No 'ap-bus' bus found for device 'vfio-ap'",
      // The same qtree as `virsh qemu-monitor-command --hmp 'info qtree'` shows.
      '(qemu) info qtree',
      'bus: main-system-bus',
      '  type System',
      '  dev: ap-bridge, id ""',
      '    bus: ap-bus',
      '      type ap-bus',
      '      dev: vfio-ap, id "hostdev0"',
      `        sysfsdev = "${SYSFSDEV}"`,
      '(qemu) device_del nope',
      "Error: Device 'nope' not found",
      '(qemu) info blah',
      "unknown command: 'info blah'",
      '(qemu) cont',
      '(qemu) frobnicate 1',
      "unknown command: 'frobnicate'",
      '(qemu) device_del hostdev0',
      '(qemu) quit',
      '',
    ].join('\r\n')
    expect(r.stdout).toBe(out)
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(await guestList(s)).toBe(LIST_HEAD + 'g1     host0  shut off  -       -     0\n')
  })

  it('-qmp unix:PATH,server=on,wait=off: QMP with exact replies, errors and events', async () => {
    const s = await labHost()
    const sock = join(s.dir, 'qmp.sock')
    const pidfile = join(s.dir, 'qemu.pid')
    const r = await s.run('qemu-system-s390x', ['-name', 'guest=g1', '-cpu', CPU, '-daemonize', '-qmp', `unix:${sock},server=on,wait=off`, '-pidfile', pidfile])
    expect(r).toEqual({stdout: '', stderr: '', exitCode: 0})
    const pid = Number(readFileSync(pidfile, 'utf8'))
    const q = await qmpClient(sock)
    expect(q.greeting).toBe('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 10}, "package": ""}, "capabilities": ["oob"]}}')
    expect(await q.ask('{"execute": "query-status"}')).toEqual([
      `{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}`,
    ])
    expect(await q.ask('{"execute": "qmp_capabilities", "id": 1}')).toEqual(['{"return": {}, "id": 1}'])
    expect(await q.ask('{"execute": "qmp_capabilities"}')).toEqual([
      '{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}',
    ])
    expect(await q.ask('{"execute": "query-status"}')).toEqual(['{"return": {"status": "running", "running": true}}'])
    expect(await q.ask('{"execute": "query-name"}')).toEqual(['{"return": {"name": "g1"}}'])
    expect(await q.ask('{"execute": "frobnicate", "id": "x"}')).toEqual(['{"error": {"class": "CommandNotFound", "desc": "The command frobnicate has not been found"}, "id": "x"}'])
    expect(await q.ask('[1]')).toEqual(['{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}'])
    expect(await q.ask('{"arguments": {}}')).toEqual([`{"error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}`])
    for (const type of ['static', 'full'])
      expect(await q.ask(`{"execute": "query-cpu-model-expansion", "arguments": {"type": "${type}", "model": {"name": "host"}}}`)).toEqual([
        '{"return": {"model": {"name": "gen16a-base", "props": {"ap": true, "apqci": true, "apft": true, "apqi": true}}}}',
      ])
    expect(await q.ask('{"execute": "query-cpu-model-expansion", "arguments": {"type": "static", "model": {"name": "foo"}}}')).toEqual([
      `{"error": {"class": "GenericError", "desc": "The CPU definition 'foo' is unknown."}}`,
    ])
    expect(await q.ask('{"execute": "device_del", "arguments": {"id": "hostdev0"}}')).toEqual([`{"error": {"class": "DeviceNotFound", "desc": "Device 'hostdev0' not found"}}`])
    expect(await q.ask(`{"execute": "device_add", "arguments": {"driver": "vfio-ap", "id": "hostdev0", "sysfsdev": "/sys/bus/mdev/devices/${U2}"}}`)).toEqual([
      `{"error": {"class": "GenericError", "desc": "vfio /sys/bus/mdev/devices/${U2}: no such host device: No such file or directory"}}`,
    ])
    expect(await q.ask('{"execute": "device_add", "arguments": {"id": "hostdev0"}}')).toEqual([`{"error": {"class": "GenericError", "desc": "Parameter 'driver' is missing"}}`])
    expect(await q.ask(`{"execute": "device_add", "arguments": {"driver": "vfio-ap", "id": "hostdev0", "sysfsdev": "${SYSFSDEV}"}}`)).toEqual(['{"return": {}}'])
    expect(await guestList(s)).toContain(`g1     host0  running  hostdev0  ${U}  1\n`)
    // vfio-ap's unplug is immediate: the event comes before the reply.
    expect((await q.ask('{"execute": "device_del", "arguments": {"id": "hostdev0"}}')).map(stamp)).toEqual([
      '{"timestamp": T, "event": "DEVICE_DELETED", "data": {"device": "hostdev0", "path": "/machine/peripheral/hostdev0"}}',
      '{"return": {}}',
    ])
    expect(await guestList(s)).toContain('g1     host0  running  -       -     0\n')
    expect((await q.ask('{"execute": "quit"}')).map(stamp)).toEqual(['{"return": {}}'])
    // Then the SHUTDOWN event and the end of the connection.
    await q.closed
    await gone(pid)
    expect(await guestList(s)).toBe(LIST_HEAD + 'g1     host0  shut off  -       -     0\n')
    // The socket and the pid file are gone with the process.
    expect([existsSync(sock), existsSync(pidfile)]).toEqual([false, false])
  })

  it('-S: the guest waits in prelaunch with its device open and no kernel; cont starts it, stop pauses it (QMP, with STOP and RESUME)', async () => {
    const s = await labHost()
    const sock = join(s.dir, 'qmp.sock')
    const pidfile = join(s.dir, 'qemu.pid')
    const args = ['-name', 'guest=g1', '-S', '-cpu', CPU, '-device', `vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0`, '-daemonize', '-qmp', `unix:${sock},server=on,wait=off`, '-pidfile', pidfile]
    expect(await s.run('qemu-system-s390x', args)).toEqual({stdout: '', stderr: '', exitCode: 0})
    const pid = Number(readFileSync(pidfile, 'utf8'))
    // The mdev is the guest's from the start: in use, and the guest's APCB is set.
    expect(await guestList(s)).toBe(`GUEST  HOST   STATE   DEVICE    MDEV${' '.repeat(34)}APQNS\ng1     host0  paused  hostdev0  ${U}  1\n`)
    expect(YAML.parse(readFileSync(s.state, 'utf8')).hosts[0].guests[0].run_state).toBe('prelaunch')
    const PRELAUNCH = "aplab: guest 'g1' is paused (prelaunch): its CPUs have not run yet, so it has no kernel to run a command in (aplab guest resume g1)\n"
    expect(await s.run('aplab', ['guest', 'exec', 'g1', '--', 'lszcrypt'])).toEqual({stdout: '', stderr: PRELAUNCH, exitCode: 1})
    const q = await qmpClient(sock)
    expect(await q.ask('{"execute": "qmp_capabilities"}')).toEqual(['{"return": {}}'])
    expect(await q.ask('{"execute": "query-status"}')).toEqual(['{"return": {"status": "prelaunch", "running": false}}'])
    expect(await q.ask('{"execute": "stop"}')).toEqual(['{"return": {}}'])
    expect((await q.ask('{"execute": "cont"}')).map(stamp)).toEqual(['{"timestamp": T, "event": "RESUME"}', '{"return": {}}'])
    expect(await q.ask('{"execute": "cont"}')).toEqual(['{"return": {}}'])
    expect(await q.ask('{"execute": "query-status"}')).toEqual(['{"return": {"status": "running", "running": true}}'])
    // The kernel booted at cont, with the APCB the device had.
    expect(await s.run('aplab', ['guest', 'exec', 'g1', '--', 'lszcrypt'])).toEqual({
      stdout:
        'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n' +
        '05       CEX5C CCA-Coproc  online            0\n05.0004  CEX5C CCA-Coproc  online            0\n',
      stderr: '',
      exitCode: 0,
    })
    expect((await q.ask('{"execute": "stop"}')).map(stamp)).toEqual(['{"timestamp": T, "event": "STOP"}', '{"return": {}}'])
    expect(await q.ask('{"execute": "query-status"}')).toEqual(['{"return": {"status": "paused", "running": false}}'])
    expect(await s.run('aplab', ['guest', 'exec', 'g1', '--', 'lszcrypt'])).toEqual({
      stdout: '',
      stderr: "aplab: guest 'g1' is paused: its CPUs run nothing, so no command runs in it (aplab guest resume g1)\n",
      exitCode: 1,
    })
    // aplab's own resume and pause act on the same guest as a second monitor would: QEMU sends
    // their RESUME and STOP to every QMP client, once each (never again for its own commands).
    expect(await s.run('aplab', ['guest', 'resume', 'g1'])).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect((await q.next()).map(stamp)).toEqual(['{"timestamp": T, "event": "RESUME"}'])
    expect(await q.ask('{"execute": "query-status"}')).toEqual(['{"return": {"status": "running", "running": true}}'])
    expect(await s.run('aplab', ['guest', 'pause', 'g1'])).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect((await q.next()).map(stamp)).toEqual(['{"timestamp": T, "event": "STOP"}'])
    expect((await q.ask('{"execute": "cont"}')).map(stamp)).toEqual(['{"timestamp": T, "event": "RESUME"}', '{"return": {}}'])
    expect(await q.ask('{"execute": "query-status"}')).toEqual(['{"return": {"status": "running", "running": true}}'])
    q.end()
    process.kill(pid, 'SIGTERM')
    await gone(pid)
    expect(await guestList(s)).toContain('g1     host0  shut off  hostdev0')
  })

  it('-S with -monitor stdio: info status, stop and cont as HMP prints them', async () => {
    const s = await labHost()
    const input = ['info status', 'stop', 'info status', 'c', 'info status', 's', 'info status', 'stop x', 'cont', 'quit', ''].join('\n')
    const r = await execa(bin('qemu-system-s390x'), ['-name', 'guest=g1', '-S', '-cpu', CPU, '-monitor', 'stdio'], {reject: false, env: s.env, input, stripFinalNewline: false})
    expect(r.stdout).toBe(
      [
        "QEMU 10.1.0 monitor - type 'help' for more information",
        '(qemu) info status',
        'VM status: paused (prelaunch)',
        '(qemu) stop',
        '(qemu) info status',
        'VM status: paused (prelaunch)',
        '(qemu) c',
        '(qemu) info status',
        'VM status: running',
        '(qemu) s',
        '(qemu) info status',
        'VM status: paused',
        '(qemu) stop x',
        'stop|s: extraneous characters at the end of line',
        'Try "help stop" for more information',
        '(qemu) cont',
        '(qemu) quit',
        '',
      ].join('\r\n'),
    )
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
  })

  it('-qmp stdio: no capabilities offered; without -name the guest is qemu-PID and query-name is empty', async () => {
    const s = await labHost()
    const input = ['{"execute": "qmp_capabilities"}', '{"execute": "query-name"}', '{"execute": "query-version"}', '{"execute": "quit"}', ''].join('\n')
    const p = execa(bin('qemu-system-s390x'), ['-cpu', CPU, '-qmp', 'stdio'], {reject: false, env: s.env, input, stripFinalNewline: false})
    const r = await p
    const lines = r.stdout.split('\r\n').map(stamp)
    expect(lines).toEqual([
      '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 10}, "package": ""}, "capabilities": []}}',
      '{"return": {}}',
      '{"return": {}}',
      '{"return": {"qemu": {"micro": 0, "minor": 1, "major": 10}, "package": ""}}',
      '{"return": {}}',
      '{"timestamp": T, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}',
      '',
    ])
    expect(r.exitCode).toBe(0)
    expect(await guestList(s)).toBe(LIST_HEAD.replace('GUEST  ', 'GUEST' + ' '.repeat(`qemu-${p.pid}`.length - 3)) + `qemu-${p.pid}  host0  shut off  -       -     0\n`)
  })

  it('-monitor unix:PATH,server=on,wait=off: HMP on a socket, one client after the other', async () => {
    const s = await labHost()
    const sock = join(s.dir, 'hmp.sock')
    const pidfile = join(s.dir, 'qemu.pid')
    expect(await s.run('qemu-system-s390x', ['-name', 'g1', '-cpu', CPU, '-daemonize', '-monitor', `unix:${sock},server=on,wait=off`, '-pidfile', pidfile])).toEqual({
      stdout: '',
      stderr: '',
      exitCode: 0,
    })
    const talk = (input: string): Promise<string> =>
      new Promise((resolve) => {
        const c = net.connect(sock)
        let out = ''
        c.setEncoding('utf8')
        c.on('data', (d: string) => {
          out += d
          // Each command's answer ends with the next prompt; after the last one, leave.
          if (out.split('(qemu) ').length - 1 === input.split('\n').length) c.end()
        })
        c.on('close', () => resolve(out))
        c.write(input)
      })
    const banner = "QEMU 10.1.0 monitor - type 'help' for more information\r\n(qemu) "
    expect(await talk('info name\n')).toBe(banner + 'info name\r\ng1\r\n(qemu) ')
    expect(await talk(`device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0\n`)).toBe(banner + `device_add vfio-ap,sysfsdev=${SYSFSDEV},id=hostdev0\r\n(qemu) `)
    expect(await guestList(s)).toContain(`g1     host0  running  hostdev0  ${U}  1\n`)
    const pid = Number(readFileSync(pidfile, 'utf8'))
    process.kill(pid, 'SIGTERM')
    await gone(pid)
    expect(await guestList(s)).toContain('g1     host0  shut off  hostdev0')
    expect(existsSync(sock)).toBe(false)
  })

  it('is a drop-in of bin/path only: on PATH in aplab shellenv, not in package.json bin', async () => {
    const s = sandbox()
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {bin: Record<string, string>}
    expect(Object.keys(pkg.bin)).not.toContain('qemu-system-s390x')
    const r = await s.sh(`eval "$(${bin('aplab')} shellenv)"; command -v qemu-system-s390x; qemu-system-s390x -version`)
    expect(r).toEqual({
      stdout: `${join(ROOT, 'bin', 'path', 'qemu-system-s390x')}\nQEMU emulator version 10.1.0\nCopyright (c) 2003-2025 Fabrice Bellard and the QEMU Project developers\n`,
      stderr: '',
      exitCode: 0,
    })
  })

  it("a guest's process record: alive by pid and start time, else the guest has ended", async () => {
    const s = await labHost()
    expect((await s.run('aplab', ['guest', 'start', 'g1', '--', '-cpu', CPU])).exitCode).toBe(0)
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    const withProcess = (startTime: string): void => {
      const doc = YAML.parse(readFileSync(s.state, 'utf8')) as {hosts: Array<{guests: Array<Record<string, unknown>>}>}
      doc.hosts[0].guests[0].process = {pid: process.pid, start: startTime, host: hostname()}
      writeFileSync(s.state, YAML.stringify(doc))
    }
    // This test's own process: alive.
    withProcess(start)
    expect(await guestList(s)).toBe('GUEST  HOST   STATE    DEVICE  MDEV  APQNS\n' + 'g1     host0  running  -       -     0\n')
    // The same pid with another start time is another process: the guest's has gone.
    withProcess(String(Number(start) + 1))
    expect(await guestList(s)).toBe(LIST_HEAD + 'g1     host0  shut off  -       -     0\n')
  })

  it('refuses as QEMU does, and starts nothing', async () => {
    const s = await labHost()
    const cases: Array<[string[], string]> = [
      [['-daemonize', '-monitor', 'stdio'], 'qemu-system-s390x: -monitor stdio: cannot use stdio with -daemonize\n'],
      [['-daemonize', '-nographic'], 'qemu-system-s390x: -nographic cannot be used with -daemonize\n'],
      [['-daemonize', '-serial', 'stdio'], "qemu-system-s390x: -serial stdio: cannot use stdio with -daemonize\nqemu-system-s390x: -serial stdio: could not connect serial device to character backend 'stdio'\n"],
      [['-daemonize', '-chardev', 'stdio,id=c0'], 'qemu-system-s390x: -chardev stdio,id=c0: cannot use stdio with -daemonize\n'],
      [['-bogus'], 'qemu-system-s390x: -bogus: invalid option\n'],
      [['-mon', 'chardev=m0,mode=control'], 'qemu-system-s390x: -mon chardev=m0,mode=control: aplab emulates the monitor only as -monitor or -qmp on stdio, none or unix:PATH,server=on,wait=off\n'],
      [['-name', 'guest=g1', '-cpu', 'host,ap=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U2}`], `qemu-system-s390x: -device vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U2}: vfio /sys/bus/mdev/devices/${U2}: no such host device: No such file or directory\n`],
      [['-name', 'guest=g1', '-cpu', 'host,ap=off', '-device', `vfio-ap,sysfsdev=${SYSFSDEV}`, '-daemonize'], "qemu-system-s390x: warning: 'apqci' requires 'ap'.\nqemu-system-s390x: warning: 'apft' requires 'ap'.\nqemu-system-s390x: warning: 'apqi' requires 'ap'.\n" + `qemu-system-s390x: -device vfio-ap,sysfsdev=${SYSFSDEV}: No 'ap-bus' bus found for device 'vfio-ap'\n`],
      [['-qmp', `unix:${join(s.dir, 'x.sock')},server=on`], `qemu-system-s390x: -qmp unix:${join(s.dir, 'x.sock')},server=on: aplab emulates the monitor only on stdio, none or unix:PATH,server=on,wait=off\n`],
      [['-qmp', `unix:${join(s.dir, 'no', 'x.sock')},server=on,wait=off`], `qemu-system-s390x: -qmp unix:${join(s.dir, 'no', 'x.sock')},server=on,wait=off: Failed to bind socket to ${join(s.dir, 'no', 'x.sock')}: No such file or directory\n`],
    ]
    const before = s.bytes()
    for (const [args, stderr] of cases) expect(await s.run('qemu-system-s390x', args)).toEqual({stdout: '', stderr, exitCode: 1})
    expect(s.bytes()).toEqual(before)
    expect(await s.run('qemu-system-s390x', ['-version'])).toEqual({
      stdout: 'QEMU emulator version 10.1.0\nCopyright (c) 2003-2025 Fabrice Bellard and the QEMU Project developers\n',
      stderr: '',
      exitCode: 0,
    })
  })
})
