// aplab's own listings: `aplab host list`, `aplab guest list` and
// `aplab guest show`, byte for byte, from a world built in-process.

import {describe, expect, it} from 'vitest'

import {infos} from '../../src/cli/guest.js'
import {mdevInfos} from '../../src/cli/mdev.js'
import {hostRows} from '../../src/cli/host.js'
import {setClock} from '../../src/core/clock.js'
import {startGuest, stopGuest} from '../../src/core/guest.js'
import type {Host, World} from '../../src/core/model.js'
import {preset} from '../../src/core/presets.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {hostTable} from '../../src/views/aplab.js'
import {guestShow, guestTable} from '../../src/views/guest.js'
import {mdevShow, mdevTable} from '../../src/views/mdev.js'

setClock(() => Date.UTC(2026, 11, 2, 9, 0, 0))

const U1 = '11111111-1111-4111-8111-111111111111'
const U2 = '22222222-2222-4222-8222-222222222222'
const MATRIX = '/sys/devices/vfio_ap/matrix'

function mdev(h: Host, uuid: string, adapters: number[], domains: number[], cdoms: number[] = []): void {
  const v = hostVfs(h)
  v.write(`${MATRIX}/mdev_supported_types/vfio_ap-passthrough/create`, uuid)
  for (const a of adapters) v.write(`${MATRIX}/${uuid}/assign_adapter`, `${a}\n`)
  for (const d of domains) v.write(`${MATRIX}/${uuid}/assign_domain`, `${d}\n`)
  for (const c of cdoms) v.write(`${MATRIX}/${uuid}/assign_control_domain`, `${c}\n`)
}

/** Two hosts: lpar1 (current) with two mdevs and two guests, one of them stopped; lpar2 bare. */
function world(): World {
  const h = preset('vfio-ap-doc').build('lpar1')
  const v = hostVfs(h)
  v.write('/sys/bus/ap/apmask', '-5,-6\n')
  v.write('/sys/bus/ap/aqmask', '-4,-0x47,-0xab,-0xff\n')
  mdev(h, U1, [5, 6], [4, 0xab], [4])
  mdev(h, U2, [5], [0x47])
  const w: World = {current: 'lpar1', hosts: [h, preset('default').build('lpar2')]}
  const all = {ap: true, apqci: true, apft: true, apqi: true}
  startGuest(w, h, {name: 'web', managed: 'libvirt', autostart: true, args: [], cpuModel: 'host', features: all, devices: [{id: 'vfio0', sysfsdev: `/sys/bus/mdev/devices/${U1}`, uuid: U1}]})
  startGuest(w, h, {name: 'batch', managed: 'qemu', autostart: false, args: [], cpuModel: 'gen16a', features: {...all, apqi: false}, devices: [{id: '', sysfsdev: `/sys/bus/mdev/devices/${U2}`, uuid: U2}]})
  startGuest(w, h, {name: 'idle', managed: 'qemu', autostart: false, args: [], cpuModel: 'host', features: all, devices: []})
  stopGuest(h.guests.find((g) => g.name === 'idle')!)
  return w
}

describe('aplab host list', () => {
  it('marks the current host and counts what each one has', async () => {
    expect(await hostTable(hostRows(world()))).toBe(
      [
        '   HOST   ADAPTERS  DOMAINS  VFIO_AP  MDEVS  GUESTS',
        '*  lpar1  2         4        loaded   2      web,batch',
        '   lpar2  6         4        -        0      -',
      ].join('\n') + '\n',
    )
  })
})

describe('aplab guest list', () => {
  it('lists the guests of every host by name', async () => {
    expect(await guestTable(infos(world()))).toBe(
      [
        'GUEST  HOST   STATE     DEVICE   MDEV                                  APQNS',
        'batch  lpar1  running   (no id)  22222222-2222-4222-8222-222222222222  1',
        'idle   lpar1  shut off  -        -                                     0',
        'web    lpar1  running   vfio0    11111111-1111-4111-8111-111111111111  4',
      ].join('\n') + '\n',
    )
  })

  it('prints nothing when there are no guests', async () => {
    expect(await guestTable([])).toBe('')
  })
})

describe('aplab guest show', () => {
  it('shows a running guest with its APQNs and control domains', () => {
    expect(guestShow(infos(world()).find((g) => g.name === 'web')!)).toBe(
      [
        'name:            web',
        'host:            lpar1',
        'state:           running',
        'managed by:      libvirt, autostart',
        'cpu:             host,ap=on,apqci=on,apft=on,apqi=on',
        `vfio-ap device:  vfio0 /sys/bus/mdev/devices/${U1}`,
        'apqns:           05.0004 05.00ab 06.0004 06.00ab',
        'control domains: 0004',
      ].join('\n') + '\n',
    )
  })

  it('shows a stopped guest without a device', () => {
    expect(guestShow(infos(world()).find((g) => g.name === 'idle')!)).toBe(
      [
        'name:            idle',
        'host:            lpar1',
        'state:           shut off',
        'managed by:      qemu',
        'cpu:             host,ap=on,apqci=on,apft=on,apqi=on',
        'vfio-ap device:  -',
        'apqns:           -',
        'control domains: -',
      ].join('\n') + '\n',
    )
  })
})

describe('aplab mdev list and show', () => {
  it('a device that is only defined shows what its definition assigns', async () => {
    const h = preset('vfio-ap-doc').build('h')
    h.persistent.files[`/etc/mdevctl.d/matrix/${U1}`] = JSON.stringify({mdev_type: 'vfio_ap-passthrough', start: 'auto', attrs: [{assign_adapter: '5'}, {assign_domain: '0x47'}, {assign_control_domain: '71'}]})
    const [info] = mdevInfos(h)
    expect(await mdevTable([info])).toBe(
      ['UUID                                  STATE                   ADAPTERS  DOMAINS  CONTROL  GUEST APQNS', `${U1}  inactive, defined auto  0x05      0x0047   0x0047   -`].join('\n') + '\n',
    )
    expect(mdevShow(info, null)).toBe(
      [
        `uuid:            ${U1}`,
        'state:           inactive',
        'definition:      mdevctl, start auto',
        'matrix:          05.0047 (as defined)',
        'guest_matrix:    -',
        'control_domains: 0x0047',
        'guest:           -',
      ].join('\n') + '\n',
    )
  })
})
