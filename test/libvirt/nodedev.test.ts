// virsh's node devices: the AP cards, queues and matrix as libvirt names
// them, and vfio_ap mdevs defined, started and marked autostart through
// mdevctl, the same definitions `mdevctl list -d` shows.

import {describe, expect, it} from 'vitest'

import {reboot} from '../../src/cli/host.js'
import {mdevctlOnHost} from '../../src/cli/mdevctl.js'
import {preset} from '../../src/core/presets.js'
import {Stdio} from '../../src/tools/libc.js'
import {runMdevctl} from '../../src/tools/mdevctl/main.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {hostCallout} from '../../src/tools/apcheck.js'
import type {World} from '../../src/core/model.js'
import {Lab, U} from './lab.js'

const UN = `mdev_${U.replace(/-/g, '_')}_matrix`
const W = 'aaaaaaaa-1111-4111-8111-111111111111'
const WN = 'mdev_aaaaaaaa_1111_4111_8111_111111111111_matrix'

const mdevXml = (o: {uuid?: string | null; parent?: string; attrs?: Array<[string, string]>} = {}): string =>
  `<device>
${o.parent === '' ? '' : `  <parent>${o.parent ?? 'ap_matrix'}</parent>\n`}  <capability type='mdev'>
    <type id='vfio_ap-passthrough'/>
${o.uuid === null ? '' : `    <uuid>${o.uuid ?? W}</uuid>\n`}${(o.attrs ?? [['assign_adapter', '0x05'], ['assign_domain', '0x0047'], ['assign_control_domain', '0x0047']]).map(([n, v]) => `    <attr name='${n}' value='${v}'/>\n`).join('')}  </capability>
</device>
`

const FAIL = (stderr: string) => ({stdout: '\n', stderr, code: 1})

/** mdevctl itself on the world's host. */
function mdevctlOut(w: World, ...argv: string[]): string {
  const h = w.hosts.find((x) => x.name === w.current)!
  const vfs = hostVfs(h)
  const io = new Stdio(true)
  runMdevctl(argv, {fs: vfs, root: '', prog: 'mdevctl', callout: hostCallout(vfs), newUuid: () => 'x'}, io)
  return io.stdout
}

describe('golden outputs', () => {
  it('nodedev-list: all, by capability, as a tree', async () => {
    const l = await Lab.create()
    const queues = ['05', '06'].flatMap((a) => ['0004', '0047', '00ab', '00ff'].map((d) => `ap_${a}_${d}`))
    expect(await l.ok('nodedev-list')).toBe([...queues, 'ap_card05', 'ap_card06', 'ap_matrix', 'computer', UN, ''].join('\n') + '\n')
    expect(await l.ok('nodedev-list', '--cap', 'ap_card,mdev')).toBe(`ap_card05\nap_card06\n${UN}\n\n`)
    expect(await l.ok('nodedev-list', '--cap', 'mdev_types')).toBe('ap_matrix\n\n')
    expect(await l.ok('nodedev-list', '--tree')).toBe(
      'computer\n  |\n' +
        ['05', '06'].map((a) => `  +- ap_card${a}\n  |   |\n` + ['0004', '0047', '00ab', '00ff'].map((d) => `  |   +- ap_${a}_${d}\n`).join('') + '  |     \n').join('') +
        `  +- ap_matrix\n      |\n      +- ${UN}\n        \n\n`,
    )
  })

  it('nodedev-dumpxml of a card, a queue, the matrix and an mdev', async () => {
    const l = await Lab.create()
    expect(await l.ok('nodedev-dumpxml', 'ap_card05')).toBe(
      "<device>\n  <name>ap_card05</name>\n  <path>/sys/devices/ap/card05</path>\n  <parent>computer</parent>\n  <driver>\n    <name>cex4card</name>\n  </driver>\n  <capability type='ap_card'>\n    <ap-adapter>0x05</ap-adapter>\n  </capability>\n</device>\n\n",
    )
    expect(await l.ok('nodedev-dumpxml', 'ap_05_00ab')).toBe(
      "<device>\n  <name>ap_05_00ab</name>\n  <path>/sys/devices/ap/card05/05.00ab</path>\n  <parent>ap_card05</parent>\n  <driver>\n    <name>vfio_ap</name>\n  </driver>\n  <capability type='ap_queue'>\n    <ap-adapter>0x05</ap-adapter>\n    <ap-domain>0x00ab</ap-domain>\n  </capability>\n</device>\n\n",
    )
    expect(await l.ok('nodedev-dumpxml', 'ap_matrix')).toBe(
      "<device>\n  <name>ap_matrix</name>\n  <path>/sys/devices/vfio_ap/matrix</path>\n  <parent>computer</parent>\n  <driver>\n    <name>vfio_ap</name>\n  </driver>\n  <capability type='ap_matrix'>\n    <capability type='mdev_types'>\n      <type id='vfio_ap-passthrough'>\n        <name>VFIO AP Passthrough Device</name>\n        <deviceAPI>vfio-ap</deviceAPI>\n        <availableInstances>65535</availableInstances>\n      </type>\n    </capability>\n  </capability>\n</device>\n\n",
    )
    l.files['m.xml'] = mdevXml()
    await l.ok('nodedev-define', 'm.xml')
    // Defined, not started: the definition's attributes as written, no path, no driver, group 0.
    expect(await l.ok('nodedev-dumpxml', WN)).toBe(`<device>
  <name>${WN}</name>
  <parent>ap_matrix</parent>
  <capability type='mdev'>
    <type id='vfio_ap-passthrough'/>
    <uuid>${W}</uuid>
    <parent_addr>matrix</parent_addr>
    <iommuGroup number='0'/>
    <attr name='assign_adapter' value='0x05'/>
    <attr name='assign_domain' value='0x0047'/>
    <attr name='assign_control_domain' value='0x0047'/>
  </capability>
</device>

`)
    await l.ok('nodedev-start', WN)
    // Started: the running device's attributes, as \`mdevctl list --dumpjson\` reports them (ap-check's get-attributes).
    expect(await l.ok('nodedev-dumpxml', WN)).toBe(`<device>
  <name>${WN}</name>
  <path>/sys/devices/vfio_ap/matrix/${W}</path>
  <parent>ap_matrix</parent>
  <driver>
    <name>vfio_mdev</name>
  </driver>
  <capability type='mdev'>
    <type id='vfio_ap-passthrough'/>
    <uuid>${W}</uuid>
    <parent_addr>matrix</parent_addr>
    <iommuGroup number='1'/>
    <attr name='assign_adapter' value='5'/>
    <attr name='assign_domain' value='71'/>
    <attr name='assign_control_domain' value='71'/>
  </capability>
</device>

`)
    // --inactive of the running device: its definition, but the IOMMU group the device has.
    expect(await l.ok('nodedev-dumpxml', '--inactive', WN)).toBe(`<device>
  <name>${WN}</name>
  <parent>ap_matrix</parent>
  <capability type='mdev'>
    <type id='vfio_ap-passthrough'/>
    <uuid>${W}</uuid>
    <parent_addr>matrix</parent_addr>
    <iommuGroup number='1'/>
    <attr name='assign_adapter' value='0x05'/>
    <attr name='assign_domain' value='0x0047'/>
    <attr name='assign_control_domain' value='0x0047'/>
  </capability>
</device>

`)
    // An mdev made through sysfs, unknown to mdevctl's definitions: what it runs with.
    expect(await l.ok('nodedev-dumpxml', UN)).toBe(`<device>
  <name>${UN}</name>
  <path>/sys/devices/vfio_ap/matrix/${U}</path>
  <parent>ap_matrix</parent>
  <driver>
    <name>vfio_mdev</name>
  </driver>
  <capability type='mdev'>
    <type id='vfio_ap-passthrough'/>
    <uuid>${U}</uuid>
    <parent_addr>matrix</parent_addr>
    <iommuGroup number='0'/>
    <attr name='assign_adapter' value='5'/>
    <attr name='assign_adapter' value='6'/>
    <attr name='assign_domain' value='4'/>
    <attr name='assign_domain' value='171'/>
  </capability>
</device>

`)
  })

  it('the root device: no DMI data on s390x, persistent and autostarted', async () => {
    const l = await Lab.create()
    expect(await l.ok('nodedev-dumpxml', 'computer')).toBe(`<device>
  <name>computer</name>
  <capability type='system'>
    <hardware>
      <uuid>00000000-0000-0000-0000-000000000000</uuid>
    </hardware>
    <firmware>
    </firmware>
  </capability>
</device>

`)
    expect(await l.ok('nodedev-info', 'computer')).toBe('Name:           computer\nParent:         \nActive:         yes\nPersistent:     yes\nAutostart:      yes\n\n')
    expect(await l.ok('nodedev-info', 'ap_05_0004')).toBe('Name:           ap_05_0004\nParent:         ap_card05\nActive:         yes\nPersistent:     no\nAutostart:      no\n\n')
    expect(await l.ok('nodedev-info', 'ap_matrix')).toBe('Name:           ap_matrix\nParent:         computer\nActive:         yes\nPersistent:     no\nAutostart:      no\n\n')
    expect(await l.ok('-q', 'nodedev-info', UN)).toBe(`Name:           ${UN}\nParent:         ap_matrix\nActive:         yes\nPersistent:     no\nAutostart:      no\n`)
  })
})

describe('mdevs through libvirt and mdevctl', () => {
  it('the IBM guide\'s set-up: nodedev-define, nodedev-start, nodedev-autostart, and the mdev is back after a reboot', async () => {
    const w0 = preset('ibm-doc').build('kvmhost')
    const l = await Lab.create({current: 'kvmhost', hosts: [w0]})
    l.files['ibm.xml'] = mdevXml({attrs: [['assign_adapter', '0x00'], ['assign_adapter', '0x0a'], ['assign_domain', '0x01'], ['assign_control_domain', '0x01']]})
    expect(await l.ok('nodedev-define', 'ibm.xml')).toBe(`Node device '${WN}' defined from 'ibm.xml'\n\n`)
    expect(await l.ok('nodedev-info', WN)).toBe(`Name:           ${WN}\nParent:         ap_matrix\nActive:         no\nPersistent:     yes\nAutostart:      no\n\n`)
    expect(await l.ok('nodedev-list', '--inactive')).toBe(`${WN}\n\n`)
    expect(await l.ok('nodedev-start', WN)).toBe(`Device ${WN} started\n\n`)
    expect(await l.ok('nodedev-autostart', WN)).toBe(`Device ${WN} marked as autostarted\n\n`)
    const w = await l.world()
    // mdevctl sees libvirt's definition: the same file under /etc/mdevctl.d.
    expect(mdevctlOut(w, 'list', '-d')).toBe(`${W} matrix vfio_ap-passthrough auto (active)\n`)
    expect(JSON.parse(mdevctlOut(w, 'list', '-d', '--dumpjson'))).toEqual([
      {matrix: [{[W]: {mdev_type: 'vfio_ap-passthrough', start: 'auto', attrs: [{assign_adapter: '0x00'}, {assign_adapter: '0x0a'}, {assign_domain: '0x01'}, {assign_control_domain: '0x01'}]}}]},
    ])
    expect(Object.keys(w.hosts[0].persistent.files)).toContain(`/etc/mdevctl.d/matrix/${W}`)
    await reboot(w.hosts[0], w)
    await l.save(w)
    expect(await l.ok('nodedev-info', WN)).toBe(`Name:           ${WN}\nParent:         ap_matrix\nActive:         yes\nPersistent:     yes\nAutostart:      yes\n\n`)
    // Started at boot from the definition: mdevctl reports the running attributes in decimal.
    expect(await l.ok('nodedev-dumpxml', WN)).toBe(`<device>
  <name>${WN}</name>
  <path>/sys/devices/vfio_ap/matrix/${W}</path>
  <parent>ap_matrix</parent>
  <driver>
    <name>vfio_mdev</name>
  </driver>
  <capability type='mdev'>
    <type id='vfio_ap-passthrough'/>
    <uuid>${W}</uuid>
    <parent_addr>matrix</parent_addr>
    <iommuGroup number='0'/>
    <attr name='assign_adapter' value='0'/>
    <attr name='assign_adapter' value='10'/>
    <attr name='assign_domain' value='1'/>
    <attr name='assign_control_domain' value='1'/>
  </capability>
</device>

`)
    const g = (await l.world()).hosts[0].runtime.mdevs.find((m) => m.uuid === W)!
    expect(g.apm.bits()).toEqual([0x00, 0x0a])
    expect(g.aqm.bits()).toEqual([0x01])
  })

  it('a definition made by mdevctl is a node device; nodedev-create is transient; destroy and undefine', async () => {
    const l = await Lab.create()
    const w = await l.world()
    expect((await mdevctlOnHost(w.hosts[0], ['define', '-u', U, '--auto'])).code).toBe(0)
    await l.save(w)
    expect(await l.ok('nodedev-info', UN)).toBe(`Name:           ${UN}\nParent:         ap_matrix\nActive:         yes\nPersistent:     yes\nAutostart:      yes\n\n`)
    l.files['t.xml'] = mdevXml()
    expect(await l.ok('nodedev-create', 't.xml')).toBe(`Node device ${WN} created from t.xml\n\n`)
    expect(await l.ok('nodedev-info', WN)).toBe(`Name:           ${WN}\nParent:         ap_matrix\nActive:         yes\nPersistent:     no\nAutostart:      no\n\n`)
    expect(await l.ok('nodedev-destroy', WN)).toBe(`Destroyed node device '${WN}'\n\n`)
    expect(await l.ok('nodedev-list', '--all', '--cap', 'mdev')).toBe(`${UN}\n\n`)
    expect(await l.ok('nodedev-undefine', UN)).toBe(`Undefined node device '${UN}'\n\n`)
    expect(await l.ok('nodedev-info', UN)).toBe(`Name:           ${UN}\nParent:         ap_matrix\nActive:         yes\nPersistent:     no\nAutostart:      no\n\n`)
    expect(mdevctlOut(await l.world(), 'list', '-d')).toBe('')
  })

  it('errors, with nothing saved', async () => {
    const l = await Lab.create()
    const refused = async (args: string[], expected: {stdout: string; stderr: string; code: number}) => {
      const before = l.state
      expect(await l.virsh(...args)).toEqual(expected)
      expect(l.state).toBe(before)
    }
    for (const cmd of ['nodedev-dumpxml', 'nodedev-info', 'nodedev-start', 'nodedev-destroy', 'nodedev-undefine', 'nodedev-autostart'])
      await refused([cmd, 'nosuch'], FAIL("error: Could not find matching device 'nosuch'\nerror: Node device not found: no node device with matching name 'nosuch'\n"))
    await refused(['nodedev-list', '--all', '--inactive'], FAIL('error: Option --all is incompatible with --inactive\n'))
    await refused(['nodedev-list', '--tree', '--cap', 'mdev'], FAIL('error: Option --tree is incompatible with --cap and --inactive\n'))
    await refused(['nodedev-list', '--cap', 'frob'], FAIL('error: Invalid capability type\n'))
    // vshStringToArray trims nothing.
    await refused(['nodedev-list', '--cap', 'ap_card, mdev'], FAIL('error: Invalid capability type\n'))
    await refused(['nodedev-start', UN], FAIL(`error: Failed to start device ${UN}\nerror: Requested operation is not valid: Device is already active\n`))
    await refused(['nodedev-undefine', UN], FAIL(`error: Failed to undefine node device '${UN}'\nerror: Requested operation is not valid: Node device '${UN}' is not defined\n`))
    await refused(
      ['nodedev-autostart', UN],
      FAIL(`error: failed to mark device ${UN} as autostarted\nerror: Requested operation is not valid: cannot set autostart for transient device\n`),
    )
    await refused(['nodedev-destroy', 'ap_card05'], FAIL("error: Failed to destroy node device 'ap_card05'\nerror: unsupported configuration: Unsupported device type\n"))
    await refused(['nodedev-dumpxml', '--inactive', UN], FAIL(`error: Requested operation is not valid: node device '${UN}' is not persistent\n`))
    const def = (name: string, text: string) => {
      l.files[name] = text
      return ['nodedev-define', name]
    }
    await refused(def('noparent.xml', mdevXml({parent: ''})), FAIL("error: Failed to define node device from 'noparent.xml'\nerror: unsupported configuration: missing parent device\n"))
    await refused(def('badparent.xml', mdevXml({parent: 'ap_matrix2'})), FAIL("error: Failed to define node device from 'badparent.xml'\nerror: unsupported configuration: invalid parent device 'ap_matrix2'\n"))
    await refused(
      def('card.xml', mdevXml({parent: 'ap_card05'})),
      FAIL("error: Failed to define node device from 'card.xml'\nerror: failed to parse configuration file Unable to find address for parent device 'ap_card05'\n"),
    )
    await refused(def('bad.xml', '<device>\n  <parent>ap_matrix</parent>\n'), FAIL("error: Failed to define node device from 'bad.xml'\nerror: (node_device_definition):3: Premature end of data in tag device line 1\n\n^\n"))
    // A definition that clashes with mdev U (05.0004) is kept, but mdevctl cannot start it: libvirt passes its message on.
    await l.ok(...def('clash.xml', mdevXml({uuid: 'bbbbbbbb-1111-4111-8111-111111111111', attrs: [['assign_adapter', '0x05'], ['assign_domain', '0x0004']]})))
    const w = await l.world()
    const h = w.hosts[0]
    const vfs = hostVfs(h)
    const io = new Stdio(true)
    expect(runMdevctl(['start', '-u', 'bbbbbbbb-1111-4111-8111-111111111111'], {fs: vfs, root: '', prog: 'mdevctl', callout: hostCallout(vfs), newUuid: () => 'x'}, io)).not.toBe(0)
    const why = io.stderr.replace(/\n+$/, '')
    expect(why).toContain('ap-check: APQN 5.4 already in use by ' + U)
    const BN = 'mdev_bbbbbbbb_1111_4111_8111_111111111111_matrix'
    await refused(['nodedev-start', BN], FAIL(`error: Failed to start device ${BN}\nerror: internal error: Unable to create mediated device: ${why}\n`))
    l.files['m.xml'] = mdevXml()
    await l.ok('nodedev-define', 'm.xml')
    await refused(['nodedev-destroy', WN], FAIL(`error: Failed to destroy node device '${WN}'\nerror: Requested operation is not valid: Device '${WN}' is not active\n`))
  })

  it('the XML has no autostart: a <start> element is ignored, and redefining makes a device manual again', async () => {
    const l = await Lab.create()
    l.files['s.xml'] = mdevXml().replace("    <type id='vfio_ap-passthrough'/>\n", "    <type id='vfio_ap-passthrough'/>\n    <start type='auto'/>\n")
    await l.ok('nodedev-define', 's.xml')
    expect(mdevctlOut(await l.world(), 'list', '-d')).toBe(`${W} matrix vfio_ap-passthrough manual\n`)
    await l.ok('nodedev-autostart', WN)
    expect(mdevctlOut(await l.world(), 'list', '-d')).toBe(`${W} matrix vfio_ap-passthrough auto\n`)
    expect(await l.ok('nodedev-define', 's.xml')).toBe(`Node device '${WN}' defined from 's.xml'\n\n`)
    expect(mdevctlOut(await l.world(), 'list', '-d')).toBe(`${W} matrix vfio_ap-passthrough manual\n`)
    expect(await l.ok('nodedev-info', WN)).toBe(`Name:           ${WN}\nParent:         ap_matrix\nActive:         no\nPersistent:     yes\nAutostart:      no\n\n`)
  })

  it('an mdev a running guest holds cannot be destroyed', async () => {
    const l = await Lab.create()
    const {domainXml} = await import('./lab.js')
    l.files['g.xml'] = domainXml()
    await l.ok('define', 'g.xml')
    await l.ok('start', 'guest1')
    expect(await l.virsh('nodedev-destroy', UN)).toEqual(FAIL(`error: Failed to destroy node device '${UN}'\nerror: internal error: Unable to destroy '${UN}': device in use\n`))
  })
})
