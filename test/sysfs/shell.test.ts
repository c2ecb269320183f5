// cat, ls and echo on the emulated /sys: paths resolve as the kernel
// resolves them, `..` after a link leading to the parent of its target.

import {describe, expect, it} from 'vitest'

import type {Host} from '../../src/core/model.js'
import {mdevUuidFromSysfsdev} from '../../src/core/qemu/devices.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {cat, echo, ls, readlink} from '../../src/sysfs/shell.js'
import {docHostWithVfioQueues} from '../helpers.js'

const host = (): Host => docHostWithVfioQueues()

describe('.. after a symbolic link', () => {
  it('cat: the parent of the link target (the card), not of the link', () => {
    const v = hostVfs(host())
    expect(cat(v, ['/sys/bus/ap/drivers/vfio_ap/05.0047/../type'])).toEqual({stdout: 'CEX5C\n', stderr: '', code: 0})
    expect(cat(v, ['/sys/bus/ap/devices/05.0047/../../card06/type'])).toEqual({stdout: 'CEX5A\n', stderr: '', code: 0})
    expect(cat(v, ['sys/./bus//ap/../ap/aqmask']).stdout).toMatch(/^0x/)
  })
  it('ls: the card directory', () => {
    const r = ls(hostVfs(host()), ['/sys/bus/ap/devices/05.0047/..'])
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')).toContain('05.0047')
    expect(r.stdout.split('\n')).toContain('type')
  })
  it('echo: through the link to the parent card; a missing name in a directory is EACCES, in a missing directory ENOENT', () => {
    const h = host()
    const v = hostVfs(h)
    expect(echo(v, '/sys/bus/ap/drivers/vfio_ap/05.0004/../online', '0\n')).toEqual({stdout: '', stderr: '', code: 0})
    expect(cat(v, ['/sys/devices/ap/card05/online']).stdout).toBe('0\n')
    expect(echo(v, '/sys/bus/ap/nosuch', '1\n')).toEqual({stdout: '', stderr: 'aplab: /sys/bus/ap/nosuch: Permission denied\n', code: 1})
    expect(echo(v, '/sys/bus/ap/nodir/x', '1\n')).toEqual({stdout: '', stderr: 'aplab: /sys/bus/ap/nodir/x: No such file or directory\n', code: 1})
  })
})

describe('the sysfsdev paths QEMU accepts', () => {
  it('each resolves to the mdev in the emulated /sys, with an iommu_group', () => {
    const h = host()
    const v = hostVfs(h)
    const U = '62177883-f1bb-47f0-914d-32a22e3a8804'
    v.write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', U)
    const forms = [
      '/sys/bus/mdev/devices/',
      '/sys/devices/vfio_ap/matrix/',
      '/sys/bus/mdev/drivers/vfio_ap_mdev/',
      '/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/devices/',
      '/sys/class/mdev_bus/matrix/',
      '/sys/bus/mdev/drivers/vfio_mdev/',
      '/sys/bus/pci/devices/',
    ]
    for (const f of forms) {
      const accepted = mdevUuidFromSysfsdev(f + U) === U
      expect([f, accepted]).toEqual([f, v.realpath(f + U) === `/sys/devices/vfio_ap/matrix/${U}`])
      if (accepted) expect(v.realpath(`${f}${U}/iommu_group`)).toMatch(/^\/sys\/kernel\/iommu_groups\/\d+$/)
    }
  })
})

describe('ls -l and readlink', () => {
  process.env.TZ = 'UTC'
  const boot = Date.UTC(2026, 11, 2, 9, 5, 0)
  const now = Date.UTC(2026, 11, 7, 1, 0, 0)

  it('ls -l of a queue: attributes 4096 bytes, directories 0 with 2 links, links with their target; a command-line link is shown, not followed', () => {
    const v = hostVfs(host())
    const l = (...p: string[]) => ls(v, p, {long: true, mtime: boot, now})
    expect(l('/sys/bus/ap/devices/05.0004')).toEqual({
      stdout: 'lrwxrwxrwx 1 root root 0 Dec  2 09:05 /sys/bus/ap/devices/05.0004 -> ../../../devices/ap/card05/05.0004\n',
      stderr: '',
      code: 0,
    })
    const t = 'Dec  2 09:05'
    expect(l('/sys/devices/ap/card05/05.0004/').stdout).toBe(
      'total 0\n' +
        [
          `-r--r--r-- 1 root root 4096 ${t} ap_functions`,
          `-r--r--r-- 1 root root 4096 ${t} chkstop`,
          `-r--r--r-- 1 root root 4096 ${t} config`,
          `lrwxrwxrwx 1 root root    0 ${t} driver -> ../../../../bus/ap/drivers/vfio_ap`,
          `-r--r--r-- 1 root root 4096 ${t} interrupt`,
          `-r--r--r-- 1 root root 4096 ${t} pendingq_count`,
          `drwxr-xr-x 2 root root    0 ${t} power`,
          `-r--r--r-- 1 root root 4096 ${t} request_count`,
          `-r--r--r-- 1 root root 4096 ${t} requestq_count`,
          `-rw-r--r-- 1 root root 4096 ${t} reset`,
          `-r--r--r-- 1 root root 4096 ${t} status`,
          `lrwxrwxrwx 1 root root    0 ${t} subsystem -> ../../../../bus/ap`,
          `-r--r--r-- 1 root root 4096 ${t} uevent`,
        ].join('\n') +
        '\n',
    )
    // A write-only attribute, a directory with subdirectories, and an old time with the year.
    const bus = ls(v, ['/sys/bus/ap'], {long: true, mtime: Date.UTC(2026, 0, 15, 8, 0), now}).stdout.split('\n')
    expect(bus).toContain('--w------- 1 root root 4096 Jan 15  2026 drivers_probe')
    expect(bus).toContain('drwxr-xr-x 5 root root    0 Jan 15  2026 drivers')
    expect(l('/sys/nosuch')).toEqual({stdout: '', stderr: "ls: cannot access '/sys/nosuch': No such file or directory\n", code: 2})
  })

  it('readlink: the stored target, nothing for a non-link; -f/-e canonical paths; -v says why', () => {
    const v = hostVfs(host())
    expect(readlink(v, ['/sys/bus/ap/devices/05.0004/driver'])).toEqual({stdout: '../../../../bus/ap/drivers/vfio_ap\n', stderr: '', code: 0})
    expect(readlink(v, ['/sys/bus/ap/apmask', '/sys/bus/ap/devices/card05'])).toEqual({stdout: '../../../devices/ap/card05\n', stderr: '', code: 1})
    expect(readlink(v, ['/sys/bus/ap/apmask'], {verbose: true})).toEqual({stdout: '', stderr: 'readlink: /sys/bus/ap/apmask: Invalid argument\n', code: 1})
    expect(readlink(v, ['/sys/bus/ap/devices/05.0004/driver', '/sys/bus/ap/devices/05.0004/nosuch', '/sys/nosuch/x'], {canonicalize: 'f'})).toEqual({
      stdout: '/sys/bus/ap/drivers/vfio_ap\n/sys/devices/ap/card05/05.0004/nosuch\n',
      stderr: '',
      code: 1,
    })
    expect(readlink(v, ['/sys/bus/ap/devices/05.0004/nosuch'], {canonicalize: 'e', verbose: true})).toEqual({
      stdout: '',
      stderr: 'readlink: /sys/bus/ap/devices/05.0004/nosuch: No such file or directory\n',
      code: 1,
    })
    expect(readlink(v, ['/sys/bus/ap/devices/card05'], {canonicalize: 'e', noNewline: true}).stdout).toBe('/sys/devices/ap/card05')
    expect(readlink(v, ['/sys/bus/ap/devices/card05', '/sys/bus/ap/devices/card06'], {noNewline: true})).toEqual({
      stdout: '../../../devices/ap/card05\n../../../devices/ap/card06\n',
      stderr: 'readlink: ignoring --no-newline with multiple arguments\n',
      code: 0,
    })
  })
})
