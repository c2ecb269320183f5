// virsh's domain commands on the kernel documentation's host: golden
// outputs, libvirt's exact errors, and that a refused command saves nothing.

import {describe, expect, it} from 'vitest'

import {start as guestStart, migrate as guestMigrate} from '../../src/cli/guest.js'
import {reboot} from '../../src/cli/host.js'
import {mdevctlOnHost} from '../../src/cli/mdevctl.js'
import {now, setClock} from '../../src/core/clock.js'
import {worldProblems} from '../../src/core/invariants.js'
import {Lab, U, V, domainXml, hostdevXml} from './lab.js'

const FAIL = (stderr: string) => ({stdout: '\n', stderr, code: 1})

async function running(): Promise<Lab> {
  const l = await Lab.create()
  l.files['guest1.xml'] = domainXml()
  l.files['hostdev.xml'] = hostdevXml(U)
  await l.ok('define', 'guest1.xml')
  await l.ok('start', 'guest1')
  return l
}

const LIVE_XML = `<domain type='kvm' id='1'>
  <name>guest1</name>
  <uuid>6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11</uuid>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='s390x' machine='s390-ccw-virtio-10.1'>hvm</type>
    <boot dev='hd'/>
  </os>
  <cpu mode='host-passthrough' check='none' migratable='on'>
    <feature policy='require' name='ap'/>
    <feature policy='require' name='apqci'/>
    <feature policy='require' name='apft'/>
    <feature policy='require' name='apqi'/>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-s390x</emulator>
    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-ap'>
      <source>
        <address uuid='62177883-f1bb-47f0-914d-32a22e3a8804'/>
      </source>
      <alias name='hostdev0'/>
    </hostdev>
    <memballoon model='virtio'>
      <alias name='balloon0'/>
      <address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0000'/>
    </memballoon>
    <panic model='s390'/>
  </devices>
</domain>
`

/** The inactive definition: no id, no <resource>, no aliases. */
const INACTIVE_XML = LIVE_XML.replace(" id='1'", '')
  .replace('  <resource>\n    <partition>/machine</partition>\n  </resource>\n', '')
  .replace("      <alias name='hostdev0'/>\n", '')
  .replace("      <alias name='balloon0'/>\n", '')

/** The same document without its <hostdev> element. */
const NO_HOSTDEV = (xml: string): string => xml.replace(/    <hostdev[^]*?<\/hostdev>\n/, '')

describe('golden outputs', () => {
  it('list: no domains, one running, --all with a shut-off one, --name', async () => {
    const l = await Lab.create()
    expect(await l.ok('list')).toBe(' Id   Name   State\n--------------------\n\n')
    l.files['g.xml'] = domainXml()
    l.files['a.xml'] = domainXml({name: 'ap-guest2', uuid: '11111111-2222-4333-8444-555555555555', hostdevs: []})
    await l.ok('define', 'g.xml')
    await l.ok('define', 'a.xml')
    await l.ok('start', 'guest1')
    expect(await l.ok('list')).toBe(' Id   Name     State\n------------------------\n 1    guest1   running\n\n')
    expect(await l.ok('list', '--all')).toBe(' Id   Name        State\n----------------------------\n 1    guest1      running\n -    ap-guest2   shut off\n\n')
    expect(await l.ok('list', '--inactive')).toBe(' Id   Name        State\n----------------------------\n -    ap-guest2   shut off\n\n')
    expect(await l.ok('list', '--name')).toBe('guest1\n\n')
    expect(await l.ok('list', '--all', '--name')).toBe('guest1\nap-guest2\n\n')
    expect(await l.ok('list', '--all', '--uuid', '--name')).toBe('6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11 guest1\n11111111-2222-4333-8444-555555555555 ap-guest2\n\n')
    expect(await l.ok('-q', 'list', '--all', '--name')).toBe('guest1\nap-guest2\n')
  })

  it('dumpxml: the live definition with id and aliases, --inactive the persistent one', async () => {
    const l = await running()
    expect(await l.ok('dumpxml', 'guest1')).toBe(LIVE_XML + '\n')
    expect(await l.ok('dumpxml', '--inactive', 'guest1')).toBe(INACTIVE_XML + '\n')
    expect(await l.ok('dumpxml', '1')).toBe(LIVE_XML + '\n')
    expect(await l.ok('dumpxml', '6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11')).toBe(LIVE_XML + '\n')
    await l.ok('destroy', 'guest1')
    expect(await l.ok('dumpxml', 'guest1')).toBe(INACTIVE_XML + '\n')
  })

  it('dominfo and domstate', async () => {
    const l = await running()
    // Running: its CPU time (an idle guest's: 1.5 s of each vCPU to boot, then 0.5 % of each).
    expect(await l.ok('dominfo', 'guest1')).toBe(
      'Id:             1\nName:           guest1\nUUID:           6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11\nOS Type:        hvm\nState:          running\n' +
        'CPU(s):         2\nCPU time:       3.0s\nMax memory:     2097152 KiB\nUsed memory:    2097152 KiB\nPersistent:     yes\nAutostart:      disable\nManaged save:   no\n\n',
    )
    const booted = now()
    setClock(() => booted + 1_000_000)
    expect((await l.ok('dominfo', 'guest1')).split('\n')[6]).toBe('CPU time:       13.0s')
    setClock(() => booted)
    expect(await l.ok('domstate', 'guest1')).toBe('running\n\n')
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('running (booted)\n\n')
    await l.ok('destroy', 'guest1')
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('shut off (destroyed)\n\n')
    // Shut off: no id, and no CPU time line (cpuTime is 0).
    expect(await l.ok('dominfo', 'guest1')).toBe(
      'Id:             -\nName:           guest1\nUUID:           6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11\nOS Type:        hvm\nState:          shut off\n' +
        'CPU(s):         2\nMax memory:     2097152 KiB\nUsed memory:    2097152 KiB\nPersistent:     yes\nAutostart:      disable\nManaged save:   no\n\n',
    )
  })

  it('a definition without uuid gets one; a custom CPU model and missing memory units are filled in', async () => {
    const l = await Lab.create()
    l.files['g.xml'] = domainXml({uuid: null, hostdevs: [], cpu: "  <cpu mode='custom'>\n    <model>z13</model>\n    <feature policy='require' name='ap'/>\n  </cpu>"})
    expect(await l.ok('define', 'g.xml')).toBe("Domain 'guest1' defined from g.xml\n\n")
    expect(await l.ok('dumpxml', 'guest1')).toBe(
      INACTIVE_XML.replace('6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11', '00000000-0000-4000-8000-000000000001')
        .replace(/  <cpu mode='host-passthrough'[^]*?<\/cpu>\n/, "  <cpu mode='custom' match='exact' check='partial'>\n    <model fallback='allow'>z13</model>\n    <feature policy='require' name='ap'/>\n  </cpu>\n")
        .replace(/    <hostdev[^]*?<\/hostdev>\n/, '') + '\n',
    )
  })
})

describe('life cycle', () => {
  it('start, the guest sees the mdev, and aplab guest list shows it; destroy, shutdown, reboot, undefine', async () => {
    const l = await running()
    const w = await l.world()
    const g = w.hosts[0].guests.find((x) => x.name === 'guest1')!
    expect(g.managed).toBe('libvirt')
    expect(g.device).toEqual({id: 'hostdev0', uuid: U, sysfsdev: `/sys/bus/mdev/devices/${U}`})
    expect(g.args).toEqual([
      '-name', 'guest=guest1,debug-threads=on', '-machine', 's390-ccw-virtio-10.1,usb=off,dump-guest-core=off', '-accel', 'kvm',
      '-cpu', 'host,ap=on,apqci=on,apft=on,apqi=on', '-m', 'size=2097152k', '-smp', '2,sockets=2,cores=1,threads=1',
      '-uuid', '6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11', '-no-user-config', '-nodefaults',
      '-device', `{"driver":"vfio-ap","id":"hostdev0","sysfsdev":"/sys/bus/mdev/devices/${U}"}`,
      '-device', '{"driver":"virtio-balloon-ccw","id":"balloon0","devno":"fe.0.0000"}',
    ])
    expect(await l.ok('reboot', 'guest1')).toBe("Domain 'guest1' is being rebooted\n\n")
    expect(await l.ok('shutdown', 'guest1')).toBe("Domain 'guest1' is being shutdown\n\n")
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('shut off (shutdown)\n\n')
    expect(await l.ok('start', 'guest1')).toBe("Domain 'guest1' started\n\n")
    expect(await l.ok('list', '--id')).toBe('2\n\n')
    expect(await l.ok('destroy', '2')).toBe("Domain 'guest1' destroyed\n\n")
    expect(await l.ok('undefine', 'guest1')).toBe("Domain 'guest1' has been undefined\n\n")
    expect(await l.ok('list', '--all', '--name')).toBe('\n')
    expect((await l.world()).hosts[0].guests).toEqual([])
  })

  it('undefine of a running domain leaves it running, transient; it is gone when it stops', async () => {
    const l = await running()
    await l.ok('undefine', 'guest1')
    expect(await l.ok('dominfo', 'guest1')).toBe(
      'Id:             1\nName:           guest1\nUUID:           6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11\nOS Type:        hvm\nState:          running\n' +
        'CPU(s):         2\nCPU time:       3.0s\nMax memory:     2097152 KiB\nUsed memory:    2097152 KiB\nPersistent:     no\nAutostart:      disable\nManaged save:   no\n\n',
    )
    expect(await l.virsh('autostart', 'guest1')).toEqual(
      FAIL("error: Failed to mark domain 'guest1' as autostarted\nerror: Requested operation is not valid: cannot set autostart for transient domain\n"),
    )
    expect(await l.virsh('undefine', 'guest1')).toEqual(FAIL("error: Failed to undefine domain 'guest1'\nerror: Requested operation is not valid: cannot undefine transient domain\n"))
    expect(await l.ok('-q', 'destroy', 'guest1')).toBe('')
    expect(await l.ok('list', '--all')).toBe(' Id   Name   State\n--------------------\n\n')
  })

  it('a guest started with aplab guest start --libvirt is a domain virsh lists and controls', async () => {
    const l = await Lab.create()
    const w = await l.world()
    guestStart(w, w.hosts[0], 'qguest', ['-cpu', 'host,ap=on,apqci=on,apft=on,apqi=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U},id=hostdev0`], {libvirt: true, autostart: false})
    await l.save(w)
    expect(await l.ok('list')).toBe(' Id   Name     State\n------------------------\n 1    qguest   running\n\n')
    // QEMU's -m default (128 MiB), one vCPU, -cpu host as host-passthrough, a UUID of QEMU's.
    const QGUEST_XML = LIVE_XML.replace('<name>guest1</name>', '<name>qguest</name>')
      .replace('6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11', 'c84862eb-e96c-534a-b752-38da26ff4c35')
      .replace(/2097152/g, '131072')
      .replace("<vcpu placement='static'>2</vcpu>", "<vcpu placement='static'>1</vcpu>")
    expect(await l.ok('dumpxml', 'qguest')).toBe(QGUEST_XML + '\n')
    expect(await l.ok('destroy', 'qguest')).toBe("Domain 'qguest' destroyed\n\n")
    expect(await l.ok('list', '--all', '--name')).toBe('qguest\n\n')
  })

  it('autostart domains start at boot after the mdevs they need', async () => {
    const l = await running()
    expect(await l.ok('autostart', 'guest1')).toBe("Domain 'guest1' marked as autostarted\n\n")
    const w = await l.world()
    const h = w.hosts[0]
    // The masks and the mdev persist: the kernel command line and mdevctl's definition.
    h.persistent.cmdline += ' ap.apmask=0xf9 ap.aqmask=0x0'
    expect((await mdevctlOnHost(h, ['define', '-u', U, '--auto'])).code).toBe(0)
    expect(await reboot(h, w)).toBe('')
    await l.save(w)
    expect(await l.ok('list')).toBe(' Id   Name     State\n------------------------\n 1    guest1   running\n\n')
    expect(w.hosts[0].guests[0].device?.uuid).toBe(U)
    expect(await l.ok('autostart', '--disable', 'guest1')).toBe("Domain 'guest1' unmarked as autostarted\n\n")
    const w2 = await l.world()
    await reboot(w2.hosts[0], w2)
    await l.save(w2)
    expect(await l.ok('list', '--all')).toBe(' Id   Name     State\n-------------------------\n -    guest1   shut off\n\n')
  })

  it('a libvirt guest moved outside virsh starts at boot on its new host, and its domain runs with id 1', async () => {
    const l = await Lab.create()
    const w = await l.world()
    guestStart(w, w.hosts[0], 'moved', ['-cpu', 'host'], {libvirt: true, autostart: true})
    guestMigrate(w, 'moved', 'lpar2')
    const h2 = w.hosts[1]
    h2.libvirt = {domains: [], nextId: 7}
    expect(await reboot(h2, w)).toBe('')
    expect(worldProblems(w)).toEqual([])
    await l.save(w)
    expect(await l.ok('-c', 'qemu+ssh://lpar2/system', 'list')).toBe(' Id   Name    State\n-----------------------\n 1    moved   running\n\n')
  })

  it('an autostart domain whose mdev is gone after the reboot stays off, and libvirtd says why', async () => {
    const l = await running()
    await l.ok('autostart', 'guest1')
    const w = await l.world()
    expect(await reboot(w.hosts[0], w)).toBe(
      `libvirtd: internal error: Failed to autostart VM 'guest1': device not found: mediated device '${U}' not found\n`,
    )
  })
})

describe('errors, with nothing saved', () => {
  async function refused(l: Lab, args: string[], stderr: string, stdout = '\n'): Promise<void> {
    const before = l.state
    expect(await l.virsh(...args)).toEqual({stdout, stderr, code: 1})
    expect(l.state).toBe(before)
  }

  it('an unknown domain, command, option or a missing one', async () => {
    const l = await running()
    for (const cmd of ['start', 'destroy', 'dominfo', 'dumpxml', 'undefine'])
      await refused(l, [cmd, 'nosuch'], "error: failed to get domain 'nosuch'\nerror: Domain not found: no domain with matching name 'nosuch'\n")
    await refused(l, ['frobnicate'], "error: unknown command: 'frobnicate'\n", '')
    await refused(l, ['list', '--frob'], "error: command 'list' doesn't support option --frob\n", '')
    await refused(l, ['start'], "error: command 'start' requires <domain> option\n", '')
    await refused(l, ['start', 'a', 'b'], "error: unexpected data 'b'\n", '')
    await refused(l, ['attach-device', 'guest1', 'hostdev.xml', '--current', '--live'], 'error: Options --current and --live are mutually exclusive\n', '')
    await refused(l, ['define', 'nosuch.xml'], "error: Failed to open file 'nosuch.xml': No such file or directory\n")
  })

  it('only root manages the system connection; a read-only one refuses changes', async () => {
    const l = await running()
    l.uid = 1000
    await refused(l, ['list'], "error: failed to connect to the hypervisor\nerror: authentication unavailable: no polkit agent available to authenticate action 'org.libvirt.unix.manage'\n", '')
    expect(await l.ok('-r', 'list', '--name')).toBe('guest1\n\n')
    await refused(l, ['-r', 'destroy', 'guest1'], "error: Failed to destroy domain 'guest1'\nerror: operation forbidden: read only access prevents virDomainDestroy\n")
    await refused(l, ['-r', 'detach-device', 'guest1', 'hostdev.xml', '--live'], 'error: Failed to detach device from hostdev.xml\nerror: operation forbidden: read only access prevents virDomainDetachDeviceFlags\n')
    await refused(l, ['-r', 'qemu-monitor-command', 'guest1', '--hmp', 'info status'], 'error: operation forbidden: read only access prevents virDomainQemuMonitorCommand\n')
    await refused(l, ['-r', 'nodedev-destroy', `mdev_${U.replace(/-/g, '_')}_matrix`], `error: Failed to destroy node device 'mdev_${U.replace(/-/g, '_')}_matrix'\nerror: operation forbidden: read only access prevents virNodeDeviceDestroy\n`)
  })

  it('XML that is not well formed, of the wrong kind, without uuid, with two hostdevs', async () => {
    const l = await Lab.create()
    const def = (name: string, text: string) => {
      l.files[name] = text
      return ['define', name]
    }
    await refused(
      l,
      def('bad.xml', domainXml().replace("    </hostdev>\n", '')),
      'error: Failed to define domain from bad.xml\nerror: (domain_definition):20: Opening and ending tag mismatch: hostdev line 16 and devices\n  </devices>\n------------^\n',
    )
    await refused(l, def('cut.xml', '<domain type=\'kvm\'>\n  <name>g</name>\n'), "error: Failed to define domain from cut.xml\nerror: (domain_definition):3: Premature end of data in tag domain line 1\n\n^\n")
    await refused(l, def('open.xml', '<domain'), "error: Failed to define domain from open.xml\nerror: (domain_definition):1: Couldn't find end of Start Tag domain line 1\n<domain\n-------^\n")
    await refused(l, def('text.xml', 'hello\n'), "error: Failed to define domain from text.xml\nerror: (domain_definition):1: Start tag expected, '<' not found\nhello\n^\n")
    await refused(l, def('two.xml', '<domain/>\n<domain/>\n'), "error: Failed to define domain from two.xml\nerror: (domain_definition):2: Extra content at the end of the document\n<domain/>\n^\n")
    await refused(l, def('root.xml', hostdevXml(U)), "error: Failed to define domain from root.xml\nerror: XML error: expecting root element of 'domain', not 'hostdev'\n")
    await refused(
      l,
      def('model.xml', domainXml().replace("model='vfio-ap'", "model='vfio-apx'")),
      "error: Failed to define domain from model.xml\nerror: XML error: Invalid value for attribute 'model' in element 'hostdev': 'vfio-apx'.\n",
    )
    await refused(
      l,
      def('nomodel.xml', domainXml().replace(" model='vfio-ap'", '')),
      "error: Failed to define domain from nomodel.xml\nerror: XML error: Missing required attribute 'model' in element 'hostdev'\n",
    )
    await refused(
      l,
      def('nouuid.xml', domainXml().replace(` uuid='${U}'`, '')),
      "error: Failed to define domain from nouuid.xml\nerror: XML error: Missing required attribute 'uuid' in element 'address'\n",
    )
    await refused(
      l,
      def('baduuid.xml', domainXml().replace(` uuid='${U}'`, " uuid='62177883-xxxx'")),
      "error: Failed to define domain from baduuid.xml\nerror: XML error: Invalid value for attribute 'uuid' in element 'address': '62177883-xxxx'. Expected UUID\n",
    )
    await refused(
      l,
      def('two-hostdevs.xml', domainXml({hostdevs: [U, V]})),
      'error: Failed to define domain from two-hostdevs.xml\nerror: unsupported configuration: Only one hostdev of model vfio-ap is supported\n',
    )
    await refused(l, def('noname.xml', domainXml().replace('  <name>guest1</name>\n', '')), 'error: Failed to define domain from noname.xml\nerror: missing name information\n')
    await refused(
      l,
      def('nomem.xml', domainXml().replace("  <memory unit='MiB'>2048</memory>\n", '')),
      'error: Failed to define domain from nomem.xml\nerror: XML error: Memory size must be specified via <memory> or in the <numa> configuration\n',
    )
    await refused(l, def('baddomuuid.xml', domainXml({uuid: 'nope'})), 'error: Failed to define domain from baddomuuid.xml\nerror: internal error: malformed uuid element\n')
    await refused(
      l,
      def('machine.xml', domainXml().replace("machine='s390-ccw-virtio'", "machine='pc'")),
      "error: Failed to define domain from machine.xml\nerror: unsupported configuration: Emulator '/usr/bin/qemu-system-s390x' does not support machine type 'pc'\n",
    )
  })

  it('define clashes, start and stop refusals', async () => {
    const l = await running()
    l.files['other.xml'] = domainXml({uuid: '11111111-2222-4333-8444-555555555555'})
    await refused(l, ['define', 'other.xml'], 'error: Failed to define domain from other.xml\nerror: operation failed: domain \'guest1\' already exists with uuid 6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11\n')
    l.files['same-uuid.xml'] = domainXml({name: 'guest9'})
    await refused(l, ['define', 'same-uuid.xml'], "error: Failed to define domain from same-uuid.xml\nerror: operation failed: domain 'guest1' is already defined with uuid 6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11\n")
    await refused(l, ['start', 'guest1'], 'error: Domain is already active\n')
    l.files['g2.xml'] = domainXml({name: 'guest2', uuid: '11111111-2222-4333-8444-555555555555'})
    await l.ok('define', 'g2.xml')
    await refused(
      l,
      ['start', 'guest2'],
      `error: Failed to start domain 'guest2'\nerror: Requested operation is not valid: mediated device /sys/bus/mdev/devices/${U} is in use by driver QEMU, domain guest1\n`,
    )
    l.files['g3.xml'] = domainXml({name: 'guest3', uuid: '11111111-2222-4333-8444-666666666666', hostdevs: [V]})
    await l.ok('define', 'g3.xml')
    await refused(l, ['start', 'guest3'], `error: Failed to start domain 'guest3'\nerror: device not found: mediated device '${V}' not found\n`)
    await refused(l, ['destroy', 'guest2'], "error: Failed to destroy domain 'guest2'\nerror: Requested operation is not valid: domain is not running\n")
    await refused(l, ['shutdown', 'guest2'], "error: Failed to shutdown domain 'guest2'\nerror: Requested operation is not valid: domain is not running\n")
    await refused(l, ['reboot', 'guest2'], "error: Failed to reboot domain 'guest2'\nerror: Requested operation is not valid: domain is not running\n")
  })

  it('QEMU refuses the generated command line: libvirt quotes its log', async () => {
    const l = await Lab.create()
    l.files['noap.xml'] = domainXml({cpu: "  <cpu mode='host-passthrough'>\n    <feature policy='disable' name='ap'/>\n  </cpu>"})
    await l.ok('define', 'noap.xml')
    await refused(
      l,
      ['start', 'guest1'],
      // -cpu host,ap=off: host's apqci/apft/apqi stay on, and QEMU warns once per vCPU (two).
      "error: Failed to start domain 'guest1'\nerror: internal error: QEMU unexpectedly closed the monitor (vm='guest1'): " +
        [1, 2].map(() => ['apqci', 'apft', 'apqi'].map((f) => `2026-12-07T01:02:03.456000Z qemu-system-s390x: warning: '${f}' requires 'ap'.\n`).join('')).join('') +
        '2026-12-07T01:02:03.456000Z qemu-system-s390x: -device ' +
        `{"driver":"vfio-ap","id":"hostdev0","sysfsdev":"/sys/bus/mdev/devices/${U}"}: No 'ap-bus' bus found for device 'vfio-ap'\n`,
    )
  })
})

describe('attach-device and detach-device', () => {
  it('live detach and attach, by the hostdev XML of the kernel documentation', async () => {
    const l = await running()
    expect(await l.ok('detach-device', 'guest1', 'hostdev.xml')).toBe('Device detached successfully\n\n')
    expect((await l.world()).hosts[0].guests[0].device).toBeNull()
    expect(await l.ok('dumpxml', 'guest1')).toBe(NO_HOSTDEV(LIVE_XML) + '\n')
    expect(await l.ok('dumpxml', '--inactive', 'guest1')).toBe(INACTIVE_XML + '\n')
    expect(await l.virsh('detach-device', 'guest1', 'hostdev.xml')).toEqual(
      FAIL(`error: Failed to detach device from hostdev.xml\nerror: device not found: mediated device '${U}' not found\n`),
    )
    expect(await l.ok('attach-device', 'guest1', 'hostdev.xml')).toBe('Device attached successfully\n\n')
    expect(await l.ok('dumpxml', 'guest1')).toBe(LIVE_XML + '\n')
  })

  it('--config changes the persistent definition only; its checks', async () => {
    const l = await running()
    expect(await l.virsh('attach-device', 'guest1', 'hostdev.xml', '--config')).toEqual(
      FAIL('error: Failed to attach device from hostdev.xml\nerror: Requested operation is not valid: device is already in the domain configuration\n'),
    )
    l.files['v.xml'] = hostdevXml(V)
    expect(await l.virsh('attach-device', 'guest1', 'v.xml', '--config')).toEqual(
      FAIL('error: Failed to attach device from v.xml\nerror: unsupported configuration: Only one hostdev of model vfio-ap is supported\n'),
    )
    expect(await l.ok('detach-device', 'guest1', 'hostdev.xml', '--config')).toBe('Device detached successfully\n\n')
    expect(await l.ok('dumpxml', '--inactive', 'guest1')).toBe(NO_HOSTDEV(INACTIVE_XML) + '\n')
    expect(await l.ok('dumpxml', 'guest1')).toBe(LIVE_XML + '\n')
    expect(await l.virsh('detach-device', 'guest1', 'hostdev.xml', '--config')).toEqual(
      FAIL('error: Failed to detach device from hostdev.xml\nerror: device not found: device not present in domain configuration\n'),
    )
    expect(await l.virsh('attach-device', 'guest1', 'hostdev.xml', '--persistent')).toEqual(
      FAIL(`error: Failed to attach device from hostdev.xml\nerror: Requested operation is not valid: mediated device /sys/bus/mdev/devices/${U} is in use by driver QEMU, domain guest1\n`),
    )
    expect(await l.ok('attach-device', 'guest1', 'hostdev.xml', '--config')).toBe('Device attached successfully\n\n')
    expect(await l.ok('dumpxml', '--inactive', 'guest1')).toBe(INACTIVE_XML + '\n')
  })

  it('a second vfio-ap device live: QEMU finds no room on the ap-bus; a domain that is off cannot take a live device', async () => {
    const l = await running()
    const w = await l.world()
    const {hostVfs} = await import('../../src/sysfs/host.js')
    hostVfs(w.hosts[0]).write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', V)
    await l.save(w)
    l.files['v.xml'] = hostdevXml(V)
    expect(await l.virsh('attach-device', 'guest1', 'v.xml', '--live')).toEqual(
      FAIL("error: Failed to attach device from v.xml\nerror: internal error: unable to execute QEMU command 'device_add': No 'ap-bus' bus found for device 'vfio-ap'\n"),
    )
    await l.ok('destroy', 'guest1')
    expect(await l.virsh('attach-device', 'guest1', 'v.xml', '--live')).toEqual(
      FAIL('error: Failed to attach device from v.xml\nerror: Requested operation is not valid: domain is not running\n'),
    )
    l.files['bad.xml'] = '<hostdev>'
    expect(await l.virsh('attach-device', 'guest1', 'bad.xml')).toEqual(
      FAIL('error: Failed to attach device from bad.xml\nerror: (device_definition):1: Premature end of data in tag hostdev line 1\n<hostdev>\n---------^\n'),
    )
  })
})

describe('qemu-monitor-command', () => {
  it('HMP device_del and device_add, with the monitor\'s own errors', async () => {
    const l = await running()
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'device_del hostdev0')).toBe('\n\n')
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'device_del', 'hostdev0')).toBe("Error: Device 'hostdev0' not found\r\n\n\n")
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'device-del hostdev0')).toBe("unknown command: 'device-del'\r\n\n\n")
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', `device_add vfio-ap,sysfsdev=/sys/devices/vfio_ap/matrix/${U},id=hostdev0`)).toBe('\n\n')
    expect((await l.world()).hosts[0].guests[0].device?.id).toBe('hostdev0')
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'info', 'qtree')).toBe(
      'bus: main-system-bus\r\n  type System\r\n  dev: ap-bridge, id ""\r\n    bus: ap-bus\r\n      type ap-bus\r\n' +
        `      dev: vfio-ap, id "hostdev0"\r\n        sysfsdev = "/sys/devices/vfio_ap/matrix/${U}"\r\n\n\n`,
    )
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', `device_add vfio-ap,sysfsdev=/sys/devices/vfio_ap/matrix/${U},id=hostdev1`)).toBe(
      "Error: No 'ap-bus' bus found for device 'vfio-ap'\r\n\n\n",
    )
  })

  it('device_del takes the QOM path of a device added without an id', async () => {
    const l = await running()
    await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'device_del hostdev0')
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', `device_add vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U}`)).toBe('\n\n')
    expect((await l.world()).hosts[0].guests[0].device).toEqual({id: '', uuid: U, sysfsdev: `/sys/bus/mdev/devices/${U}`})
    expect(await l.ok('qemu-monitor-command', 'guest1', '{"execute":"device_del","arguments":{"id":"/machine/peripheral-anon/device[0]"}}')).toBe('{"return":{},"id":"libvirt-21"}\n\n')
    expect((await l.world()).hosts[0].guests[0].device).toBeNull()
  })

  it('QMP: the reply as libvirt serialises it, --pretty, errors', async () => {
    const l = await running()
    expect(await l.ok('qemu-monitor-command', 'guest1', '{"execute":"device_del","arguments":{"id":"hostdev0"}}')).toBe('{"return":{},"id":"libvirt-21"}\n\n')
    expect(await l.ok('qemu-monitor-command', 'guest1', '--pretty', '{"execute":"device_del","arguments":{"id":"hostdev0"}}')).toBe(
      '{\n  "error": {\n    "class": "DeviceNotFound",\n    "desc": "Device \'hostdev0\' not found"\n  },\n  "id": "libvirt-22"\n}\n\n',
    )
    expect(await l.ok('qemu-monitor-command', 'guest1', '{"execute":"query-status"}')).toBe('{"return":{"status":"running","running":true},"id":"libvirt-23"}\n\n')
    expect(await l.virsh('qemu-monitor-command', 'guest1', '{"execute":')).toEqual(FAIL('error: internal error: cannot parse json {"execute":: unexpected end of data\n'))
    await l.ok('destroy', 'guest1')
    expect(await l.virsh('qemu-monitor-command', 'guest1', '{"execute":"query-status"}')).toEqual(FAIL('error: Requested operation is not valid: domain is not running\n'))
  })

  it('the same monitor as qemu-system-s390x runs: info name and version, query-name, quit ends the domain', async () => {
    const l = await running()
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'info name')).toBe('guest1\r\n\n\n')
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'info version')).toBe('10.1.0\r\n\n\n')
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'info blah')).toBe("unknown command: 'info blah'\r\n\n\n")
    expect(await l.ok('qemu-monitor-command', 'guest1', '--return-value', '{"execute":"query-name"}')).toBe('{"name":"guest1"}\n\n')
    expect(await l.ok('qemu-monitor-command', 'guest1', '{"execute":"qmp_capabilities"}')).toBe(
      '{"error":{"class":"CommandNotFound","desc":"Capabilities negotiation is already complete, command ignored"},"id":"libvirt-22"}\n\n',
    )
    // QEMU quits: SHUTDOWN (host-qmp-quit), then the monitor's end.
    expect(await l.ok('qemu-monitor-command', 'guest1', '{"execute":"quit"}')).toBe('{"return":{},"id":"libvirt-23"}\n\n')
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('shut off (shutdown)\n\n')
    expect((await l.world()).hosts[0].guests[0].running).toBe(false)
  })
})

describe('migrate', () => {
  it('refused while the vfio-ap hostdev is attached; after detach-device it moves; attach-device on the target', async () => {
    const l = await running()
    expect(await l.virsh('migrate', '--live', 'guest1', 'qemu+ssh://lpar2/system')).toEqual(
      FAIL('error: Requested operation is not valid: cannot migrate domain: non-migratable device: /1/vfio-ap\n'),
    )
    expect(await l.virsh('migrate', '--live', 'guest1', 'qemu+ssh://nosuch/system')).toEqual({
      stdout: '\n',
      stderr: 'error: failed to connect to the hypervisor\nerror: Cannot recv data: ssh: Could not resolve hostname nosuch: Name or service not known: Connection reset by peer\n',
      code: 1,
    })
    await l.ok('detach-device', 'guest1', 'hostdev.xml')
    expect(await l.ok('migrate', '--live', 'guest1', 'qemu+ssh://lpar2/system')).toBe('\n')
    expect(await l.ok('list', '--all')).toBe(' Id   Name     State\n-------------------------\n -    guest1   shut off\n\n')
    expect(await l.ok('-c', 'qemu+ssh://lpar2/system', 'list')).toBe(' Id   Name     State\n------------------------\n 1    guest1   running\n\n')
    expect(await l.ok('-c', 'qemu+ssh://lpar2/system', 'domstate', '--reason', 'guest1')).toBe('running (migrated)\n\n')
    expect(await l.ok('-c', 'qemu+ssh://lpar2/system', 'attach-device', 'guest1', 'hostdev.xml')).toBe('Device attached successfully\n\n')
    const w = await l.world()
    expect(w.hosts[1].guests.map((g) => [g.name, g.device?.uuid])).toEqual([['guest1', U]])
  })
})
