// aplab mount over FUSE, used by ordinary programs (bash, cat, readlink,
// ls) as a real host's sysfs would be.

import {statSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {aplabMountAt} from '../../src/live/mount.js'
import {NO_FUSE, cleanSandboxes, sandbox, startMount} from './helpers.js'

afterAll(cleanSandboxes)

const FF = '0x' + 'f'.repeat(64) + '\n'

describe.skipIf(NO_FUSE !== null)(`aplab mount${NO_FUSE ? ` (skipped: ${NO_FUSE})` : ''}`, () => {
  it('serves sysfs to bash, cat, readlink and ls, live in both directions', async () => {
    const s = sandbox()
    expect((await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])).exitCode).toBe(0)
    const {mnt, proc} = await startMount(s)
    const sys = join(mnt, 'sys')

    expect(await s.sh(`cat ${sys}/bus/ap/apmask`)).toEqual({stdout: FF, stderr: '', exitCode: 0})
    expect((await s.sh(`ls ${mnt}`)).stdout).toBe('etc\nproc\nsys\n')
    expect((await s.sh(`readlink ${sys}/bus/ap/devices/05.0004/driver`)).stdout).toBe('../../../../bus/ap/drivers/cex4queue\n')
    expect((await s.sh(`readlink -f ${sys}/bus/ap/devices/05.0004`)).stdout).toBe(`${sys}/devices/ap/card05/05.0004\n`)
    // `..` after a link is the real parent: the card's directory.
    expect((await s.sh(`cat ${sys}/bus/ap/devices/05.0004/../hwtype`)).stdout).toBe('11\n')
    expect((await s.sh(`cd ${sys}/bus/ap && stat -c '%A %U %G %s %n' apmask ap_max_domain_id`)).stdout).toBe(
      '-rw-r--r-- root root 4096 apmask\n-r--r--r-- root root 4096 ap_max_domain_id\n',
    )
    expect((await s.sh(`stat -c '%A %s' ${sys}/bus/ap/devices/card05`)).stdout).toBe(`lrwxrwxrwx ${'../../../devices/ap/card05'.length}\n`)

    // A refused store: bash's message for the kernel's errno, the state file unchanged.
    const before = s.bytes()
    expect(await s.sh(`echo 0xzz > ${sys}/bus/ap/apmask`)).toEqual({stdout: '', stderr: 'bash: line 1: echo: write error: Invalid argument\n', exitCode: 1})
    expect(await s.sh(`echo 1 > ${sys}/bus/ap/ap_max_domain_id`)).toEqual({
      stdout: '',
      stderr: `bash: line 1: ${sys}/bus/ap/ap_max_domain_id: Permission denied\n`,
      exitCode: 1,
    })
    expect(await s.sh(`touch ${sys}/bus/ap/newfile`)).toMatchObject({stderr: `touch: cannot touch '${sys}/bus/ap/newfile': Permission denied\n`, exitCode: 1})
    expect(s.bytes().equals(before)).toBe(true)

    // Written through the mount, seen by aplab; written by aplab, seen through the mount.
    expect(await s.sh(`echo -5,-6 > ${sys}/bus/ap/apmask`)).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect((await s.run('aplab', ['sysfs', 'cat', '/sys/bus/ap/apmask'])).stdout).toBe('0xf9' + 'f'.repeat(62) + '\n')
    expect((await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/aqmask', '-4'])).exitCode).toBe(0)
    expect((await s.sh(`cat ${sys}/bus/ap/aqmask`)).stdout).toBe('0xf7' + 'f'.repeat(62) + '\n')
    expect((await s.sh(`readlink ${sys}/bus/ap/devices/05.0004/driver`)).stdout).toBe('../../../../bus/ap/drivers/vfio_ap\n')

    // A tool that reads sysfs from a directory sees the same host.
    const viaMount = await s.run('lszcrypt', ['-V'], {SYSFS_ROOT: sys})
    const direct = await s.run('lszcrypt', ['-V'])
    expect(viaMount.stdout).toBe(direct.stdout)

    expect(await s.run('aplab', ['umount', mnt])).toEqual({stdout: '', stderr: '', exitCode: 0})
    const r = await proc
    expect(r.exitCode).toBe(0)
    expect(aplabMountAt(mnt)).toBeUndefined()
  })

  it("serves /proc/modules and /sys/module as a script checks them; they follow modprobe", async () => {
    const s = sandbox()
    expect((await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])).exitCode).toBe(0)
    const {mnt, proc} = await startMount(s)
    const lines = 'vfio_ap 65536 0 - Live 0x000003ff805d0000\nzcrypt_cex4 57344 0 - Live 0x000003ff80448000\nzcrypt 151552 1 zcrypt_cex4, Live 0x000003ff80410000\n'
    expect(await s.sh(`cat ${mnt}/proc/modules; stat -c '%A %s' ${mnt}/proc/modules; ls ${mnt}/sys/module`)).toEqual({
      stdout: `${lines}-r--r--r-- 0\nap\nvfio_ap\nzcrypt\nzcrypt_cex4\n`,
      stderr: '',
      exitCode: 0,
    })
    const check = `[ -d ${mnt}/sys/module/vfio_ap ] && grep -w vfio_ap ${mnt}/proc/modules && cat ${mnt}/sys/module/vfio_ap/refcnt ${mnt}/sys/module/vfio_ap/initstate && readlink -f ${mnt}/sys/bus/ap/drivers/vfio_ap/module && ls ${mnt}/sys/module/vfio_ap/drivers`
    expect(await s.sh(check)).toEqual({
      stdout: `vfio_ap 65536 0 - Live 0x000003ff805d0000\n0\nlive\n${mnt}/sys/module/vfio_ap\nap:vfio_ap\nmdev:vfio_ap_mdev\n`,
      stderr: '',
      exitCode: 0,
    })
    expect(await s.run('modprobe', ['-r', 'vfio_ap'])).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect(await s.sh(`[ -d ${mnt}/sys/module/vfio_ap ] || cat ${mnt}/proc/modules; grep -cw vfio_ap ${mnt}/proc/modules`)).toEqual({
      stdout: 'zcrypt_cex4 57344 0 - Live 0x000003ff80448000\nzcrypt 151552 1 zcrypt_cex4, Live 0x000003ff80410000\n0\n',
      stderr: '',
      exitCode: 1,
    })
    expect(await s.run('aplab', ['umount', mnt])).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect((await proc).exitCode).toBe(0)
  })

  it('a mount left by a killed aplab mount is stale; the next mount or aplab umount removes it', async () => {
    const s = sandbox()
    const first = await startMount(s)
    first.proc.kill('SIGKILL')
    await first.proc
    expect(() => statSync(first.mnt)).toThrow(/ENOTCONN/)
    const second = await startMount(s)
    expect((await s.sh(`cat ${second.mnt}/proc/cmdline`)).exitCode).toBe(0)
    second.proc.kill('SIGKILL')
    await second.proc
    expect(aplabMountAt(second.mnt)).toBeDefined()
    expect(await s.run('aplab', ['umount', second.mnt])).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect(aplabMountAt(second.mnt)).toBeUndefined()
  })

  it('SIGTERM unmounts; a second mount on a served directory and umount of a plain one are refused', async () => {
    const s = sandbox()
    const m = await startMount(s)
    const again = await s.run('aplab', ['mount', m.mnt])
    expect(again.stderr).toMatch(new RegExp(`^aplab: ${m.mnt} is an aplab mount already \\(served by pid \\d+; aplab umount ${m.mnt}\\)\\n$`))
    expect(again.exitCode).toBe(1)
    m.proc.kill('SIGTERM')
    expect((await m.proc).exitCode).toBe(0)
    expect(aplabMountAt(m.mnt)).toBeUndefined()
    expect(await s.run('aplab', ['umount', m.mnt])).toEqual({stdout: '', stderr: `aplab: ${m.mnt}: not an aplab mount\n`, exitCode: 1})
    expect(await s.run('aplab', ['mount', join(s.dir, 'nope')])).toEqual({
      stdout: '',
      stderr: `aplab: cannot mount on ${join(s.dir, 'nope')}: No such file or directory\n`,
      exitCode: 1,
    })
    expect((await s.run('aplab', ['mount', '--host', 'nohost', m.mnt])).stderr).toBe("aplab: no host named 'nohost' (hosts: host0)\n")
  })
})
