// cat, ls and echo on the emulated /sys: paths resolve as the kernel
// resolves them, `..` after a link leading to the parent of its target.

import {describe, expect, it} from 'vitest'

import type {Host} from '../../src/core/model.js'
import {preset} from '../../src/core/presets.js'
import {mdevUuidFromSysfsdev} from '../../src/core/qemu.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {cat, echo, ls} from '../../src/sysfs/shell.js'

function host(): Host {
  const h = preset('vfio-ap-doc').build('h')
  const v = hostVfs(h)
  v.write('/sys/bus/ap/apmask', '-5,-6\n')
  v.write('/sys/bus/ap/aqmask', '-4,-0x47\n')
  return h
}

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
