// Paused domains: virsh start --paused, suspend and resume, the paused state
// and its reasons in list, dominfo and domstate, the monitor's stop and cont
// seen by libvirt, and migration of a paused domain.

import {describe, expect, it} from 'vitest'

import {execIn} from '../../src/cli/guest.js'
import {Lab, U, domainXml, hostdevXml} from './lab.js'

async function defined(o: {hostdevs?: string[]} = {}): Promise<Lab> {
  const l = await Lab.create()
  l.files['guest1.xml'] = domainXml(o)
  l.files['hostdev.xml'] = hostdevXml(U)
  await l.ok('define', 'guest1.xml')
  return l
}

async function refused(l: Lab, args: string[], stderr: string, stdout = '\n'): Promise<void> {
  const before = l.state
  expect(await l.virsh(...args)).toEqual({stdout, stderr, code: 1})
  expect(l.state).toBe(before)
}

const dominfo = (id: string, state: string, cpu: string): string =>
  `Id:             ${id}\nName:           guest1\nUUID:           6a9e3c1e-0b8f-4b57-9d0f-1f7f7c2d6e11\nOS Type:        hvm\nState:          ${state}\n` +
  `CPU(s):         2\nCPU time:       ${cpu}\nMax memory:     2097152 KiB\nUsed memory:    2097152 KiB\nPersistent:     yes\nAutostart:      disable\nManaged save:   no\n\n`

const LSZCRYPT =
  'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n' +
  '05       CEX5C CCA-Coproc  online            0\n05.0004  CEX5C CCA-Coproc  online            0\n05.00ab  CEX5C CCA-Coproc  online            0\n' +
  '06       CEX5A Accelerator online            0\n06.0004  CEX5A Accelerator online            0\n06.00ab  CEX5A Accelerator online            0\n'

describe('virsh start --paused, suspend, resume', () => {
  it('start --paused: paused (user) with its mdev open and no kernel; resume boots it (unpaused); suspend pauses it (user)', async () => {
    const l = await defined()
    expect(await l.ok('start', '--paused', 'guest1')).toBe("Domain 'guest1' started\n\n")
    expect(await l.ok('domstate', 'guest1')).toBe('paused\n\n')
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('paused (user)\n\n')
    expect(await l.ok('list')).toBe(' Id   Name     State\n-----------------------\n 1    guest1   paused\n\n')
    // Its vCPUs have not run: the QEMU process's own start-up (virsh(1)).
    expect(await l.ok('dominfo', 'guest1')).toBe(dominfo('1', 'paused', '0.1s'))
    // QEMU runs with -S: prelaunch, the device realized.
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'info status')).toBe('VM status: paused (prelaunch)\r\n\n\n')
    let w = await l.world()
    let g = w.hosts[0].guests[0]
    expect([g.runState, g.device?.uuid]).toEqual(['prelaunch', U])
    expect(await l.ok('resume', 'guest1')).toBe("Domain 'guest1' resumed\n\n")
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('running (unpaused)\n\n')
    w = await l.world()
    g = w.hosts[0].guests[0]
    expect((await execIn(w.hosts[0], g, ['lszcrypt'], 0)).stdout).toBe(LSZCRYPT)
    // Resuming a running domain succeeds and changes nothing.
    expect(await l.ok('resume', 'guest1')).toBe("Domain 'guest1' resumed\n\n")
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('running (unpaused)\n\n')
    expect(await l.ok('suspend', '1')).toBe("Domain 'guest1' suspended\n\n")
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('paused (user)\n\n')
    expect(await l.ok('qemu-monitor-command', 'guest1', '{"execute":"query-status"}')).toBe('{"return":{"status":"paused","running":false},"id":"libvirt-21"}\n\n')
    expect(await l.ok('suspend', 'guest1')).toBe("Domain 'guest1' suspended\n\n")
    expect(await l.ok('dominfo', 'guest1')).toBe(dominfo('1', 'paused', '3.0s'))
    expect(await l.ok('-q', 'resume', 'guest1')).toBe('')
    expect(await l.ok('domstate', 'guest1')).toBe('running\n\n')
  })

  it('list --state-running, --state-paused, --state-shutoff, --state-other', async () => {
    const l = await defined()
    l.files['b.xml'] = domainXml({name: 'b', uuid: '11111111-2222-4333-8444-555555555555', hostdevs: []})
    l.files['c.xml'] = domainXml({name: 'c', uuid: '11111111-2222-4333-8444-666666666666', hostdevs: []})
    for (const f of ['b.xml', 'c.xml']) await l.ok('define', f)
    await l.ok('start', 'guest1')
    await l.ok('start', '--paused', 'b')
    expect(await l.ok('list', '--all')).toBe(' Id   Name     State\n-------------------------\n 1    guest1   running\n 2    b        paused\n -    c        shut off\n\n')
    expect(await l.ok('list', '--state-paused', '--name')).toBe('b\n\n')
    expect(await l.ok('list', '--state-running', '--name')).toBe('guest1\n\n')
    expect(await l.ok('list', '--state-running', '--state-paused', '--name')).toBe('guest1\nb\n\n')
    expect(await l.ok('list', '--all', '--state-shutoff', '--name')).toBe('c\n\n')
    expect(await l.ok('list', '--all', '--state-other', '--name')).toBe('\n')
    // cmdList: --state-shutoff lists the inactive domains instead of the active ones, so with
    // --state-running it finds none running; --all with --inactive is --all.
    expect(await l.ok('list', '--state-shutoff', '--name')).toBe('c\n\n')
    expect(await l.ok('list', '--state-shutoff', '--state-running', '--name')).toBe('c\n\n')
    expect(await l.ok('list', '--inactive', '--state-running', '--name')).toBe('\n')
    expect(await l.ok('list', '--all', '--inactive', '--name')).toBe('guest1\nb\nc\n\n')
  })

  it('refusals: an inactive domain, an unknown one, a read-only connection; start of an active one', async () => {
    const l = await defined()
    await refused(l, ['suspend', 'guest1'], "error: Failed to suspend domain 'guest1'\nerror: Requested operation is not valid: domain is not running\n")
    await refused(l, ['resume', 'guest1'], "error: Failed to resume domain 'guest1'\nerror: Requested operation is not valid: domain is not running\n")
    await refused(l, ['suspend', 'nosuch'], "error: failed to get domain 'nosuch'\nerror: Domain not found: no domain with matching name 'nosuch'\n")
    await refused(l, ['-r', 'start', '--paused', 'guest1'], "error: Failed to start domain 'guest1'\nerror: operation forbidden: read only access prevents virDomainCreateWithFlags\n")
    await l.ok('start', '--paused', 'guest1')
    await refused(l, ['start', '--paused', 'guest1'], 'error: Domain is already active\n')
    await refused(l, ['-r', 'resume', 'guest1'], "error: Failed to resume domain 'guest1'\nerror: operation forbidden: read only access prevents virDomainResume\n")
    await refused(l, ['-r', 'suspend', 'guest1'], "error: Failed to suspend domain 'guest1'\nerror: operation forbidden: read only access prevents virDomainSuspend\n")
    await refused(l, ['suspend'], "error: command 'suspend' requires <domain> option\n", '')
  })

  it("the monitor's stop and cont through qemu-monitor-command: paused (unknown), then running (unpaused)", async () => {
    const l = await defined()
    await l.ok('start', 'guest1')
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'stop')).toBe('\n\n')
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('paused (unknown)\n\n')
    expect(await l.ok('qemu-monitor-command', 'guest1', '--hmp', 'info status')).toBe('VM status: paused\r\n\n\n')
    expect(await l.ok('qemu-monitor-command', 'guest1', '{"execute":"cont"}')).toBe('{"return":{},"id":"libvirt-21"}\n\n')
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('running (unpaused)\n\n')
  })

  it('destroy and shutdown of a paused domain end it as they end a running one', async () => {
    const l = await defined()
    await l.ok('start', '--paused', 'guest1')
    expect(await l.ok('destroy', 'guest1')).toBe("Domain 'guest1' destroyed\n\n")
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('shut off (destroyed)\n\n')
    expect((await l.world()).hosts[0].guests[0].runState).toBeUndefined()
    await l.ok('start', 'guest1')
    await l.ok('suspend', 'guest1')
    expect(await l.ok('shutdown', 'guest1')).toBe("Domain 'guest1' is being shutdown\n\n")
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('shut off (shutdown)\n\n')
  })
})

describe('migrate', () => {
  it('a paused domain stays paused on the destination (user); --suspend leaves a running one paused there', async () => {
    const l = await defined({hostdevs: []})
    await l.ok('start', 'guest1')
    await l.ok('suspend', 'guest1')
    expect(await l.ok('migrate', '--live', 'guest1', 'qemu+ssh://lpar2/system')).toBe('\n')
    const at2 = ['-c', 'qemu+ssh://lpar2/system']
    expect(await l.ok(...at2, 'domstate', '--reason', 'guest1')).toBe('paused (user)\n\n')
    expect(await l.ok(...at2, 'resume', 'guest1')).toBe("Domain 'guest1' resumed\n\n")
    expect(await l.ok(...at2, 'migrate', '--suspend', 'guest1', 'qemu+ssh://lpar1/system')).toBe('\n')
    expect(await l.ok('domstate', '--reason', 'guest1')).toBe('paused (user)\n\n')
    expect(await l.ok('list')).toBe(' Id   Name     State\n-----------------------\n 2    guest1   paused\n\n')
  })
})
