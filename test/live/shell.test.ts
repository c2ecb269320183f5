// aplab shell: a script written for a real host, and Debian's real
// mdevctl, run unchanged against the emulated host; and aplab shellenv.

import {existsSync, readFileSync, readdirSync, realpathSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {NO_SHELL, ROOT, cleanSandboxes, sandbox} from './helpers.js'

afterAll(cleanSandboxes)

const PROVISION = join(import.meta.dirname, 'fixtures', 'provision-ap.sh')
const UUID = '7f3c1c9e-3b5e-4b3a-9c43-8d0f1b2a5e01'
/** Debian's mdevctl package. */
const REAL_MDEVCTL = ['/usr/bin/mdevctl', '/usr/sbin/mdevctl'].find((p) => existsSync(p))

const shellDirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('aplab-shell-'))

describe.skipIf(NO_SHELL !== null)(`aplab shell${NO_SHELL ? ` (skipped: ${NO_SHELL})` : ''}`, () => {
  it('runs a provisioning script written for a real host unchanged; aplab sees the host it made', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    const before = shellDirs()
    const r = await s.run('aplab', ['shell', '--', PROVISION])
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const card = (id: string, type: string, mode: string) => `${id}${' '.repeat(9 - id.length)}${type} ${mode.padEnd(11)} online            0\n`
    const queues = (c: string, type: string, mode: string) => ['', '.0004', '.0047', '.00ab', '.00ff'].map((q) => card(c + q, type, mode)).join('')
    const head = 'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n'
    expect(r.stdout).toBe(
      '== crypto adapters before\n' +
        head +
        queues('05', 'CEX5C', 'CCA-Coproc') +
        queues('06', 'CEX5A', 'Accelerator') +
        'apmask 0xf9' + 'f'.repeat(62) + '\n' +
        'aqmask 0xf7' + 'f'.repeat(40) + 'ef' + 'f'.repeat(20) + '\n' +
        `== matrix of ${UUID}\n05.0004\n05.00ab\n06.0004\n06.00ab\n` +
        '== crypto adapters after\n' +
        head +
        card('05', 'CEX5C', 'CCA-Coproc') +
        card('06', 'CEX5A', 'Accelerator') +
        '== guest1: {"return": {"status": "running", "running": true}}\n' +
        `provisioned ${UUID}\n`,
    )
    // The state, through aplab: the mdev runs and is defined to start at boot, the masks are persistent.
    expect((await s.run('aplab', ['mdev', 'list'])).stdout).toBe(
      'UUID                                  STATE                 ADAPTERS   DOMAINS        CONTROL  GUEST APQNS\n' +
        `${UUID}  active, defined auto  0x05,0x06  0x0004,0x00ab  -        4\n`,
    )
    // The guest the script started with qemu-system-s390x -daemonize runs with the hot-plugged mdev, until its process ends.
    expect((await s.run('aplab', ['guest', 'list'])).stdout).toBe(
      'GUEST   HOST   STATE    DEVICE    MDEV                                  APQNS\n' + `guest1  host0  running  hostdev0  ${UUID}  4\n`,
    )
    const pid = Number(/process:\n\s+pid: (\d+)/.exec(String(s.bytes()))![1])
    process.kill(pid, 'SIGTERM')
    for (;;) {
      let stat = ''
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      } catch {
        break
      }
      if (/\) [ZX] /.test(stat)) break
      await new Promise((r) => setImmediate(r))
    }
    expect((await s.run('aplab', ['guest', 'list'])).stdout).toBe(
      'GUEST   HOST   STATE     DEVICE    MDEV                                  APQNS\n' + `guest1  host0  shut off  hostdev0  ${UUID}  0\n`,
    )
    expect((await s.run('aplab', ['host', 'reboot'])).exitCode).toBe(0)
    expect((await s.run('mdevctl', ['list'])).stdout).toBe(`${UUID} matrix vfio_ap-passthrough auto (defined)\n`)
    expect((await s.run('aplab', ['sysfs', 'cat', '/sys/bus/ap/apmask'])).stdout).toBe('0xf9' + 'f'.repeat(62) + '\n')
    // Nothing is left behind in the machine's /tmp.
    expect(shellDirs()).toEqual(before)
  })

  it.skipIf(REAL_MDEVCTL === undefined)(`Debian's mdevctl${REAL_MDEVCTL ? '' : ' (skipped: the mdevctl package is not installed)'} defines, starts, lists and stops an mdev; aplab sees it`, async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/apmask', '-6'])
    await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/aqmask', '-0x47'])
    const u = '22222222-2222-4333-8444-555555555555'
    const m = REAL_MDEVCTL!
    const start = await s.run('aplab', [
      'shell',
      '--',
      'sh',
      '-c',
      `set -e; ${m} define -u ${u} -p matrix -t vfio_ap-passthrough; ${m} modify -u ${u} --addattr=assign_adapter --value=6; ` +
        `${m} modify -u ${u} --addattr=assign_domain --value=0x47; ${m} start -u ${u}; ${m} list; cat /sys/bus/mdev/devices/${u}/matrix`,
    ])
    expect(start.stderr).toBe('')
    // mdevctl 1.2.0 (Debian 12) ends its list with an empty line.
    expect(start.stdout).toBe(`${u} matrix vfio_ap-passthrough manual (defined)\n\n06.0047\n`)
    expect(start.exitCode).toBe(0)
    const list = (state: string, apqns: string) =>
      `UUID                                  ${'STATE'.padEnd(state.length)}  ADAPTERS  DOMAINS  CONTROL  GUEST APQNS\n` +
      `${u}  ${state}  0x06      0x0047   -        ${apqns}\n`
    expect((await s.run('aplab', ['mdev', 'list'])).stdout).toBe(list('active, defined manual', '1'))
    const stop = await s.run('aplab', ['shell', '--', 'sh', '-c', `${m} stop -u ${u} && ${m} list && ${m} list -d`])
    expect(stop).toEqual({stdout: `\n${u} matrix vfio_ap-passthrough manual\n\n`, stderr: '', exitCode: 0})
    expect((await s.run('aplab', ['mdev', 'list'])).stdout).toBe(list('inactive, defined manual', '-'))
  })

  it("lays the host over /sys, /proc/cmdline and /etc/mdevctl.d in the namespace only; exits with the command's status", async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    const r = await s.run('aplab', [
      'shell',
      '--',
      'sh',
      '-c',
      'ls /sys; cat /proc/cmdline; ls /etc/mdevctl.d; for c in modprobe lsmod lszcrypt; do command -v $c; done; echo "$APLAB_STATE"; exit 7',
    ])
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(7)
    const cmdline = (await s.run('aplab', ['host', 'cmdline'])).stdout
    const path = join(ROOT, 'bin', 'path')
    expect(r.stdout).toBe(`bus\nclass\ndevices\nkernel\nmodule\n${cmdline}scripts.d\n${path}/modprobe\n${path}/lsmod\n${path}/lszcrypt\n${s.state}\n`)
    // A script's checks of the module: /sys/module is the host's; /proc/modules too where this machine has one to lay over.
    const mod = await s.run('aplab', ['shell', '--', 'sh', '-c', '[ -d /sys/module/vfio_ap ] && cat /sys/module/vfio_ap/refcnt && grep -w vfio_ap /proc/modules'])
    expect(mod).toEqual(
      existsSync('/proc/modules')
        ? {stdout: '0\nvfio_ap 65536 0 - Live 0x000003ff805d0000\n', stderr: '', exitCode: 0}
        : {stdout: '0\n', stderr: 'grep: /proc/modules: No such file or directory\n', exitCode: 2},
    )
    // The machine's own /sys is as it was.
    expect(existsSync('/sys/kernel')).toBe(true)
    expect(existsSync('/sys/devices/vfio_ap/matrix') && realpathSync('/sys/devices/vfio_ap/matrix') === '/sys/devices/vfio_ap/matrix').toBe(
      existsSync('/sys/devices/vfio_ap/matrix'),
    )
    expect(await s.run('aplab', ['shell', '--', 'no-such-command-here'])).toEqual({
      stdout: '',
      stderr: 'aplab: no-such-command-here: command not found\n',
      exitCode: 127,
    })
    expect(await s.run('aplab', ['shell', '--host', 'nohost', '--', 'true'])).toEqual({
      stdout: '',
      stderr: "aplab: no host named 'nohost' (hosts: host0)\n",
      exitCode: 1,
    })
  })
})

describe('aplab shellenv', () => {
  it('prints sh code for the drop-ins and the state, which sh can eval', async () => {
    const s = sandbox()
    const r = await s.run('aplab', ['shellenv'])
    const path = join(ROOT, 'bin', 'path')
    expect(r).toEqual({stdout: `export PATH='${path}'"\${PATH:+:$PATH}"\nexport APLAB_STATE='${s.state}'\n`, stderr: '', exitCode: 0})
    const ev = await s.sh(`eval "$(${join(ROOT, 'bin', 'aplab.js')} shellenv)"; command -v modprobe; modprobe vfio_ap && lsmod | head -2`)
    expect(ev).toEqual({stdout: `${path}/modprobe\nModule                  Size  Used by\nvfio_ap                65536  0\n`, stderr: '', exitCode: 0})
    expect((await s.run('aplab', ['--host', 'host0', 'shellenv'])).stdout).toContain("export APLAB_HOST='host0'\n")
  })
})
