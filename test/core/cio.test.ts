// The CCW device blacklist: cio_ignore= at boot, /proc/cio_ignore reads and
// writes as drivers/s390/cio/blacklist.c answers them.

import {describe, expect, it} from 'vitest'

import {bootBlacklist, blacklistFromText, blacklistText, showBlacklist, writeBlacklist} from '../../src/core/cio.js'
import {startGuest} from '../../src/core/guest.js'
import {parseCmdline} from '../../src/core/host.js'
import {preset} from '../../src/core/presets.js'
import {guestVfs} from '../../src/sysfs/guest.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {echo} from '../../src/sysfs/shell.js'

const boot = (cmdline: string, warn?: (m: string) => void) => bootBlacklist(parseCmdline(cmdline), warn)

describe('cio_ignore= at boot', () => {
  it('all, with the IPL DASD of rd.dasd freed by the initramfs: one line per run within a subchannel set', () => {
    expect(showBlacklist(boot('root=/dev/dasda1 rd.dasd=0.0.5c00 cio_ignore=all,!condev'))).toBe(
      '0.0.0000-0.0.5bff\n0.0.5c01-0.0.ffff\n0.1.0000-0.1.ffff\n0.2.0000-0.2.ffff\n0.3.0000-0.3.ffff\n',
    )
  })

  it('no cio_ignore: nothing is ignored', () => {
    expect(showBlacklist(boot('root=/dev/vda1'))).toBe('')
  })

  it('old-style numbers, ranges across subchannel sets, negation and single devices', () => {
    expect(showBlacklist(boot('cio_ignore=1234,0.0.fff0-0.1.000f,!0.1.0004,0x0a'))).toBe(
      '0.0.000a\n0.0.1234\n0.0.fff0-0.0.ffff\n0.1.0000-0.1.0003\n0.1.0005-0.1.000f\n',
    )
  })

  it('bad items are logged and skipped; the rest applies', () => {
    const log: string[] = []
    expect(showBlacklist(boot('cio_ignore=0.0.12345,0.4.0000,0.0.0010-0.0.0001,1.0.0001,0.0.0020', (m) => log.push(m)))).toBe('0.0.0020\n')
    expect(log).toEqual([
      'cio: 0.0.12345 is not a valid device for the cio_ignore kernel parameter',
      'cio: 0.4.0000 is not a valid device for the cio_ignore kernel parameter',
      'cio: 0.0.0010 to 0.0.0001 is not a valid range for cio_ignore',
      'cio: 1.0.0001 is not a valid device for the cio_ignore kernel parameter',
    ])
  })

  it('rd.znet and rd.zfcp free their devices too', () => {
    expect(showBlacklist(boot('cio_ignore=0.0.0000-0.0.00ff rd.znet=qeth,0.0.0010,0.0.0011,0.0.0012,layer2=1 rd.zfcp=0.0.0020,0x500507630300c562,0x401040a200000000'))).toBe(
      '0.0.0000-0.0.000f\n0.0.0013-0.0.001f\n0.0.0021-0.0.00ff\n',
    )
  })
})

describe('writing /proc/cio_ignore', () => {
  const base = boot('cio_ignore=all')

  it('free and add take the same lists; trailing blanks and newlines are dropped', () => {
    let r = writeBlacklist(base, 'free 0.0.0000-0.3.fffe\n')
    expect(r.ok).toBe(true)
    expect(showBlacklist(r.list)).toBe('0.3.ffff\n')
    r = writeBlacklist(r.list, 'add 0.0.5c00,!0.3.ffff  \n')
    expect(showBlacklist(r.list)).toBe('0.0.5c00\n')
    expect(writeBlacklist(r.list, 'free all').list).toEqual([])
  })

  it('purge succeeds (no offline devices); another verb is EINVAL; a bad item is EINVAL after the good ones apply', () => {
    expect(writeBlacklist(base, 'purge\n')).toEqual({list: base, ok: true})
    expect(writeBlacklist(base, 'remove 0.0.1234\n').ok).toBe(false)
    expect(writeBlacklist(base, 'free\n')).toEqual({list: base, ok: true})
    const r = writeBlacklist([], 'add 0.0.0001,zz,0.0.0003\n')
    expect(r.ok).toBe(false)
    expect(showBlacklist(r.list)).toBe('0.0.0001\n0.0.0003\n')
  })

  it('through the host file system: root only, EINVAL as a write error', () => {
    const h = preset('default').build('h')
    const v = hostVfs(h)
    expect(v.read('/proc/cio_ignore')).toBe('0.0.0000-0.0.5bff\n0.0.5c01-0.0.ffff\n0.1.0000-0.1.ffff\n0.2.0000-0.2.ffff\n0.3.0000-0.3.ffff\n')
    expect(echo(v, '/proc/cio_ignore', 'free 0.0.1234\n').code).toBe(0)
    expect(v.read('/proc/cio_ignore').split('\n').slice(0, 2)).toEqual(['0.0.0000-0.0.1233', '0.0.1235-0.0.5bff'])
    expect(echo(v, '/proc/cio_ignore', 'nonsense\n')).toMatchObject({code: 1, stderr: 'aplab: echo: write error: Invalid argument\n'})
    expect(echo(hostVfs(h, 1000), '/proc/cio_ignore', 'free all\n')).toMatchObject({code: 1, stderr: 'aplab: /proc/cio_ignore: Permission denied\n'})
  })
})

describe('in a guest', () => {
  it('a KVM guest boots without cio_ignore: an empty list of its own', () => {
    const h = preset('vfio-ap-doc').build('h')
    const w = {current: 'h', hosts: [h]}
    const g = startGuest(w, h, {name: 'g', managed: 'qemu', autostart: false, args: [], cpuModel: 'host', features: {ap: true, apqci: true, apft: true, apqi: true}, devices: []})
    const v = guestVfs(h, g)
    expect(v.read('/proc/cio_ignore')).toBe('')
    expect(echo(v, '/proc/cio_ignore', 'add 0.0.0001-0.0.0003\n').code).toBe(0)
    expect(v.read('/proc/cio_ignore')).toBe('0.0.0001-0.0.0003\n')
    expect(hostVfs(h).read('/proc/cio_ignore')).toMatch(/^0\.0\.0000-0\.0\.5bff\n/)
  })
})

describe('the state file form', () => {
  it('round-trips; entries that are not bus IDs are refused', () => {
    const list = boot('rd.dasd=0.0.5c00 cio_ignore=all')
    expect(blacklistFromText(blacklistText(list))).toEqual(list)
    expect(blacklistText(boot('cio_ignore=0.0.0001'))).toEqual(['0.0.0001'])
    expect(blacklistFromText(['0.0.5c00-0.0.0001'])).toBeNull()
    expect(blacklistFromText(['disk'])).toBeNull()
  })
})
