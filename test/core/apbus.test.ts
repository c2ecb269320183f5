import {describe, expect, it} from 'vitest'

import {errno} from '../helpers.js'
import {boot} from '../../src/core/host.js'
import {preset} from '../../src/core/presets.js'
import type {Host} from '../../src/core/model.js'
import {echo} from '../../src/sysfs/shell.js'
import {hostVfs} from '../../src/sysfs/host.js'

const fresh = (name = 'default'): Host => preset(name).build('h')


describe('AP bus attributes of the default host', () => {
  const v = hostVfs(fresh())
  it('masks are 0x + 64 hex digits', () => {
    expect(v.read('/sys/bus/ap/apmask')).toBe('0x' + 'f'.repeat(64) + '\n')
    expect(v.read('/sys/bus/ap/ap_usage_domain_mask')).toBe('0x0f' + '0'.repeat(62) + '\n')
    expect(v.read('/sys/bus/ap/ap_adapter_mask')).toBe('0xfc' + '0'.repeat(62) + '\n')
  })
  it('limits, features and bindings', () => {
    expect(v.read('/sys/bus/ap/ap_max_domain_id')).toBe('84\n')
    expect(v.read('/sys/bus/ap/ap_max_adapter_id')).toBe('255\n')
    expect(v.read('/sys/bus/ap/features')).toBe('APSC APXA QACT RC8A\n')
    expect(v.read('/sys/bus/ap/bindings')).toBe('24/24 (complete)\n')
    expect(v.read('/sys/bus/ap/ap_domain')).toBe('4\n')
  })
  it('card and queue attributes in kernel formats', () => {
    expect(v.read('/sys/devices/ap/card00/ap_functions')).toBe('0x93800000\n')
    expect(v.read('/sys/devices/ap/card00/type')).toBe('CEX8C\n')
    expect(v.read('/sys/devices/ap/card03/hwtype')).toBe('13\n')
    expect(v.read('/sys/devices/ap/card00/modalias')).toBe('ap:t0E\n')
    expect(v.readlink('/sys/devices/ap/card00/driver')).toBe('../../../bus/ap/drivers/cex4card')
    expect(v.readlink('/sys/bus/ap/devices/00.0004')).toBe('../../../devices/ap/card00/00.0004')
    expect(v.read('/sys/bus/ap/devices/00.0004/online')).toBe('1\n')
    expect(v.isFile('/sys/devices/ap/card02/serialnr')).toBe(false)
    expect(v.read('/sys/devices/ap/card00/serialnr')).toBe('93AAKC41\n')
  })
  it('write-only and read-only attributes refuse the wrong access', () => {
    expect(errno(() => v.read('/sys/bus/ap/drivers/cex4card/bind'))).toBe('EACCES')
    expect(errno(() => v.write('/sys/bus/ap/features', '1'))).toBe('EACCES')
    expect(errno(() => v.read('/sys/bus/ap'))).toBe('EISDIR')
    expect(errno(() => v.read('/sys/bus/ap/nope'))).toBe('ENOENT')
  })
})

describe('kernel effects of writes (lszcrypt.md §11.8)', () => {
  it('card offline takes its zcrypt queues offline; online brings them back', () => {
    const v = hostVfs(fresh())
    v.write('/sys/bus/ap/devices/card00/online', '0')
    expect(v.read('/sys/devices/ap/card00/00.0005/online')).toBe('0\n')
    expect(errno(() => v.write('/sys/devices/ap/card00/00.0005/online', '1'))).toBe('EINVAL')
    v.write('/sys/bus/ap/devices/card00/online', '1\n')
    expect(v.read('/sys/devices/ap/card00/00.0005/online')).toBe('1\n')
  })
  it('online takes only 0 or 1', () => {
    const v = hostVfs(fresh())
    for (const s of ['2', '-1', 'x']) expect(errno(() => v.write('/sys/devices/ap/card00/online', s)), s).toBe('EINVAL')
  })
  it('writing nothing is no write: the attribute never sees it', () => {
    const h = fresh()
    const v = hostVfs(h)
    const before = v.read('/sys/bus/ap/apmask')
    for (const p of ['/sys/bus/ap/apmask', '/sys/bus/ap/config_time', '/sys/devices/ap/card00/online']) v.write(p, '')
    expect(v.read('/sys/bus/ap/apmask')).toBe(before)
    expect(v.read('/sys/devices/ap/card00/online')).toBe('1\n')
    expect(echo(v, '/sys/bus/ap/apmask', '')).toEqual({stdout: '', stderr: '', code: 0})
  })
  it('a deconfigured card reads config 0 and online 0, and cannot go online', () => {
    const h = fresh()
    const v = hostVfs(h)
    v.write('/sys/devices/ap/card01/config', '0')
    expect(v.read('/sys/devices/ap/card01/online')).toBe('0\n')
    expect(v.read('/sys/devices/ap/card01/01.0004/config')).toBe('0\n')
    expect(errno(() => v.write('/sys/devices/ap/card01/online', '1'))).toBe('ENODEV')
    v.write('/sys/devices/ap/card01/config', '1')
    expect(v.read('/sys/devices/ap/card01/online')).toBe('1\n')
    expect(errno(() => v.write('/sys/devices/ap/card01/config', '2'))).toBe('EINVAL')
  })
  it('bus settings validate like the kernel', () => {
    const v = hostVfs(fresh())
    expect(errno(() => v.write('/sys/bus/ap/config_time', '4'))).toBe('EINVAL')
    v.write('/sys/bus/ap/config_time', '120')
    expect(errno(() => v.write('/sys/bus/ap/poll_timeout', '120000000001'))).toBe('EINVAL')
    v.write('/sys/bus/ap/poll_timeout', '0')
    expect(errno(() => v.write('/sys/bus/ap/ap_domain', '85'))).toBe('EINVAL')
    v.write('/sys/bus/ap/ap_domain', '0x10')
    expect(v.read('/sys/bus/ap/ap_domain')).toBe('16\n')
    // Interrupts are on, so the poll thread stays off.
    v.write('/sys/bus/ap/poll_thread', '1')
    expect(v.read('/sys/bus/ap/poll_thread')).toBe('0\n')
  })
  it('ap_domain must be allowed by aqmask', () => {
    const v = hostVfs(fresh())
    v.write('/sys/bus/ap/aqmask', '-5')
    expect(errno(() => v.write('/sys/bus/ap/ap_domain', '5'))).toBe('EINVAL')
  })
})

describe('binding follows the masks and vfio_ap', () => {
  it('freed queues have no driver until vfio_ap is loaded', () => {
    const v = hostVfs(fresh())
    v.write('/sys/bus/ap/apmask', '-0')
    expect(v.isFile('/sys/devices/ap/card00/00.0004/driver')).toBe(false)
    expect(v.read('/sys/devices/ap/card00/00.0004/request_count')).toBe('-\n')
    expect(v.read('/sys/bus/ap/bindings')).toBe('20/24\n')
  })
  it("the vfio-ap doc's masks bind its eight queues to vfio_ap", () => {
    const v = hostVfs(fresh('vfio-ap-doc'))
    v.write('/sys/bus/ap/apmask', '-5,-6\n')
    v.write('/sys/bus/ap/aqmask', '-4,-0x47,-0xab,-0xff\n')
    expect(v.readdir('/sys/bus/ap/drivers/vfio_ap').filter((n) => n.includes('.')).sort()).toEqual([
      '05.0004', '05.0047', '05.00ab', '05.00ff', '06.0004', '06.0047', '06.00ab', '06.00ff',
    ])
    expect(v.read('/sys/devices/ap/card05/05.0047/status')).toBe('unassigned\n')
    expect(v.isFile('/sys/devices/ap/card05/05.0047/online')).toBe(false)
  })
  it('a queue that returns to cex4queue starts online again', () => {
    const v = hostVfs(fresh('vfio-ap-doc'))
    v.write('/sys/devices/ap/card05/05.0004/online', '0')
    v.write('/sys/bus/ap/apmask', '-5')
    v.write('/sys/bus/ap/apmask', '+5')
    expect(v.read('/sys/devices/ap/card05/05.0004/online')).toBe('1\n')
  })
  it('unbind and bind through the driver attributes', () => {
    const v = hostVfs(fresh())
    v.write('/sys/bus/ap/drivers/cex4queue/unbind', '00.0004\n')
    expect(v.isFile('/sys/devices/ap/card00/00.0004/online')).toBe(false)
    expect(errno(() => v.write('/sys/bus/ap/drivers/cex4queue/unbind', '00.0004'))).toBe('ENODEV')
    expect(errno(() => v.write('/sys/bus/ap/drivers/vfio_ap/bind', '00.0004'))).toBe('ENOENT')
    v.write('/sys/bus/ap/drivers/cex4queue/bind', '00.0004')
    expect(v.read('/sys/devices/ap/card00/00.0004/online')).toBe('1\n')
    expect(errno(() => v.write('/sys/bus/ap/drivers/cex4queue/bind', '00.0004'))).toBe('EBUSY')
  })
})

describe('boot', () => {
  it('applies ap.apmask/ap.aqmask from the kernel command line (seed example)', () => {
    const h = fresh()
    const rt = boot(h.lpar, {cmdline: 'ro ap.apmask=0xffff ap.aqmask=0x40', files: {}})
    expect(rt.apmask.bits()).toEqual(Array.from({length: 16}, (_, i) => i))
    expect(rt.aqmask.bits()).toEqual([1])
  })
  it('a parse error leaves the mask empty, a bad ap.domain is dropped', () => {
    const h = fresh()
    const rt = boot(h.lpar, {cmdline: 'ap.apmask=0xzz ap.domain=200', files: {}})
    expect(rt.apmask.isEmpty()).toBe(true)
    expect(rt.domain).toBe(4)
  })
  it('loads modules listed in /etc/modules-load.d', () => {
    const h = fresh('ibm-doc')
    expect(h.runtime.modules).toEqual(['vfio_ap'])
    expect(hostVfs(h).readlink('/sys/devices/ap/card0a/0a.001b/driver')).toBe('../../../../bus/ap/drivers/vfio_ap')
  })
})
