// End-to-end: the built binaries, spawned as a script would run them.
import {cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')
const bin = (name: string) => join(ROOT, 'bin', `${name}.js`)

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-e2e-'))
  const state = join(dir, 'state.yaml')
  const env = {APLAB_STATE: state, SYSFS_ROOT: '', APLAB_HOST: '', APLAB_UID: ''}
  const run = (name: string, args: string[], extra: Record<string, string> = {}) =>
    execa(bin(name), args, {reject: false, env: {...env, ...extra}, stripFinalNewline: false})
  return {dir, state, run}
}

describe.concurrent('drop-in binaries', () => {
  it('lszcrypt on a fresh default host prints the listing and nothing else', async () => {
    const s = sandbox()
    const r = await s.run('lszcrypt', [])
    expect(r.exitCode).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n').slice(0, 3).join('\n')).toBe(
      'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n00       CEX8C CCA-Coproc  online            0',
    )
  })

  it('errors carry the tool name and the tool exit code, with no stack trace', async () => {
    const s = sandbox()
    const r = await s.run('lszcrypt', ['-x'])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe("lszcrypt: Invalid option '-x'\nTry 'lszcrypt --help' for more information.\n")
    const c = await s.run('chzcrypt', ['-e', '9'])
    expect(c.stderr).toBe('chzcrypt: Error - cryptographic device card09 does not exist.\n')
    expect(c.exitCode).toBe(1)
  })

  it('chzcrypt changes persist between calls; aplab lszcrypt is the same tool', async () => {
    const s = sandbox()
    expect((await s.run('chzcrypt', ['-d', '-V', '02'])).stdout).toBe('Setting cryptographic device card02 offline\n')
    const a = await s.run('lszcrypt', ['02'])
    const b = await s.run('aplab', ['lszcrypt', '02'])
    expect(a.stdout).toBe(b.stdout)
    expect(a.stdout).toContain('02.0004  CEX8A Accelerator offline           0\n')
    const h = await s.run('aplab', ['chzcrypt', '--help'])
    expect(h.stdout.startsWith('Usage: chzcrypt [OPTIONS] [DEVICE_IDS]\n')).toBe(true)
  })

  it('a corrupt state file is reported with its name and left alone', async () => {
    const s = sandbox()
    writeFileSync(s.state, 'version: 1\ncurrent: host0\nhosts: 7\n')
    for (const [tool, args] of [['lszcrypt', []], ['chzcrypt', ['-e', '0']], ['aplab', ['sysfs', 'cat', '/sys/bus/ap/apmask']]] as const) {
      const r = await s.run(tool, [...args])
      const prefix = tool === 'aplab' ? 'aplab' : tool
      expect(r.stderr).toBe(`${prefix}: ${s.state}: hosts: expected a list, found 7\n`)
      expect(r.exitCode).toBe(1)
    }
    expect(readFileSync(s.state, 'utf8')).toBe('version: 1\ncurrent: host0\nhosts: 7\n')
  })

  it('aplab sysfs write: kernel refusals fail like the shell and change nothing', async () => {
    const s = sandbox()
    await s.run('aplab', ['init'])
    const before = readFileSync(s.state)
    const r = await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/config_time', '200'])
    expect(r.stderr).toBe('aplab: echo: write error: Invalid argument\n')
    expect(r.exitCode).toBe(1)
    expect(readFileSync(s.state).equals(before)).toBe(true)
    const ok = await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/apmask', '-5,-6'])
    expect(ok.exitCode).toBe(0)
    expect((await s.run('aplab', ['sysfs', 'cat', '/sys/bus/ap/apmask'])).stdout).toBe('0x' + 'f9' + 'f'.repeat(62) + '\n')
    const ls = await s.run('aplab', ['sysfs', 'ls', '/sys/bus/ap/nope'])
    expect(ls.stderr).toBe("ls: cannot access '/sys/bus/ap/nope': No such file or directory\n")
    expect(ls.exitCode).toBe(2)
  })

  it('the fast path and oclif agree; --help goes to oclif', async () => {
    const s = sandbox()
    const fast = await s.run('aplab', ['sysfs', 'cat', '/sys/bus/ap/ap_domain'])
    const viaFlag = await s.run('aplab', ['sysfs', 'cat', '--state', s.state, '/sys/bus/ap/ap_domain'])
    expect(fast.stdout).toBe('4\n')
    expect(viaFlag.stdout).toBe('4\n')
    const help = await s.run('aplab', ['sysfs', 'cat', '--help'])
    expect(help.stdout).toContain('Print sysfs attributes of the emulated host, like cat')
    const bad = await s.run('aplab', ['sysfs', 'cat', '--bogus', '/x'])
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr).toBe("aplab: Nonexistent flag: --bogus\nTry 'aplab sysfs cat --help' for more information.\n")
  })

  it('init refuses to overwrite without --force', async () => {
    const s = sandbox()
    expect((await s.run('aplab', ['init', '--preset', 'ibm-doc'])).exitCode).toBe(0)
    const again = await s.run('aplab', ['init'])
    expect(again.stderr).toBe(`aplab: ${s.state}: a state file exists already (use --force to replace it)\n`)
    expect(again.exitCode).toBe(1)
    const v = await s.run('lszcrypt', ['-V'])
    expect(v.stdout).toContain('00.0001  CEX7A Accelerator unassigned        -        -     13     08 -MC-A-N-F- vfio_ap    \n')
  })

  it('export writes a tree the tools read through SYSFS_ROOT; import gives the host back', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/apmask', '-5'])
    await s.run('chzcrypt', ['-d', '06.0047'])
    const uuid = (await s.run('aplab', ['mdev', 'create'])).stdout.trim()
    expect((await s.run('aplab', ['mdev', 'assign', uuid, '--adapter', '5', '--domain', '4', '--control-domain', '4'])).exitCode).toBe(0)
    const root = join(s.dir, 'root')
    expect((await s.run('aplab', ['export', root])).exitCode).toBe(0)
    expect(readFileSync(join(root, 'sys/devices/vfio_ap/matrix', uuid, 'matrix'), 'utf8')).toBe('05.0004\n')
    for (const args of [['-V'], ['-b'], ['-d'], ['-s'], ['-c', '5'], ['-c', '06.0004']]) {
      const emu = await s.run('lszcrypt', args)
      const real = await s.run('lszcrypt', args, {SYSFS_ROOT: join(root, 'sys')})
      expect(real.stdout, args.join(' ')).toBe(emu.stdout)
    }
    // The boot time comes back through /proc/uptime to the second; the kernel log is not exported.
    const norm = (t: string) => t.replace(/\n +boot_time: \d+/, '').replace(/\n +dmesg:(\n +- .*)*( \[\])?/, '')
    const before = readFileSync(s.state, 'utf8')
    expect((await s.run('aplab', ['import', root])).exitCode).toBe(0)
    expect(norm(readFileSync(s.state, 'utf8'))).toBe(norm(before))
  })

  it('a closed pipe ends the tool quietly', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'max'])
    const r = await execa('sh', ['-c', `${bin('lszcrypt')} -V | head -1`], {reject: false, env: {APLAB_STATE: s.state}})
    expect(r.stdout).toBe('CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     ')
    expect(r.stderr).toBe('')
  })

  it('a closed pipe ends a long write quietly with the status of SIGPIPE, in a pipeline as in sh', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'max'])
    const r = await execa('bash', ['-c', `${bin('lszcrypt')} -V | true; echo "\${PIPESTATUS[0]}"`], {reject: false, env: {APLAB_STATE: s.state}})
    expect(r.stdout).toBe('141')
    expect(r.stderr).toBe('')
  })

  it("the drop-ins and aplab sysfs load none of Node's costly modules on the way (crypto, streams, networking)", async () => {
    // What each cost a call (crypto alone 2.5 ms, most of what a virsh command does), as
    // Node's own list of the modules it loaded says when the process ends.
    const s = sandbox()
    const probe = join(s.dir, 'probe.cjs')
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeSync(2, '\\nLOADED ' + process.moduleLoadList.join(',')))\n`)
    await s.run('aplab', ['init'])
    const calls: [string, string[]][] = [
      ['lszcrypt', ['-b']],
      ['aplab', ['sysfs', 'write', '/sys/bus/ap/poll_timeout', '300000']],
      ['aplab', ['sysfs', 'write', '/sys/bus/ap/aqmask', '-0xfe']],
      ['aplab', ['sysfs', 'cat', '/sys/bus/ap/apmask']],
      ['mdevctl', ['list']],
      ['lszdev', ['-t', 'ap']],
      ['virsh', ['list', '--all']],
      ['virsh', ['nodedev-list', '--cap', 'ap_matrix']],
      ['dmesg', []],
      // A UUID made for a definition without one.
      ['modprobe', ['vfio_ap']],
      ['mdevctl', ['define', '-p', 'matrix', '-t', 'vfio_ap-passthrough']],
    ]
    for (const [name, args] of calls) {
      const r = await execa(process.execPath, ['--require', probe, bin(name), ...args], {reject: false, env: {APLAB_STATE: s.state, APLAB_HOST: '', APLAB_UID: ''}})
      expect(r.exitCode, `${name} ${args.join(' ')}: ${r.stderr}`).toBe(0)
      const loaded = r.stderr.slice(r.stderr.lastIndexOf('\nLOADED ') + 8).split(',')
      expect(loaded.filter((m) => /^NativeModule (crypto|stream|net|tls|http|zlib)$/.test(m)), `${name} ${args.join(' ')}`).toEqual([])
    }
  })

  it('the code caches of the bundles change nothing but speed: missing, or refused by V8, the bundles compile', async () => {
    const s = sandbox()
    const app = join(s.dir, 'app')
    for (const f of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) cpSync(join(ROOT, f), join(app, f), {recursive: true})
    const caches = readdirSync(join(app, 'dist')).filter((f) => f.endsWith('.v8cache'))
    expect(caches.length).toBeGreaterThan(0)
    const runIn = (root: string, name: string, args: string[]) => execa(join(root, 'bin', `${name}.js`), args, {reject: false, env: {APLAB_STATE: s.state}, stripFinalNewline: false})
    const calls: [string, string[]][] = [
      ['lszcrypt', ['-V']],
      ['aplab', ['sysfs', 'cat', '/sys/bus/ap/apmask']],
      ['aplab', ['lszcrypt', '-b']],
      ['aplab', ['host', 'list']],
      ['aplab', ['mdev', 'assign']],
      ['virsh', ['list', '--all']],
    ]
    const outputs = async (root: string) => Promise.all(calls.map(async ([n, a]) => ((r) => [r.exitCode, r.stdout, r.stderr])(await runIn(root, n, a))))
    const want = await outputs(ROOT)
    for (const f of caches) writeFileSync(join(app, 'dist', f), 'not a code cache')
    expect(await outputs(app)).toEqual(want)
    for (const f of caches) rmSync(join(app, 'dist', f))
    expect(await outputs(app)).toEqual(want)
  })

  it('a bundle changed in place after its code caches runs as it now is, not as the caches remember it', async () => {
    const s = sandbox()
    const app = join(s.dir, 'app')
    for (const f of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) cpSync(join(ROOT, f), join(app, f), {recursive: true, preserveTimestamps: true})
    const hostList = () => execa(join(app, 'bin', 'aplab.js'), ['host', 'list'], {reject: false, env: {APLAB_STATE: s.state}})
    expect((await hostList()).stdout).toContain('ADAPTERS')
    // The same length: V8 alone would take the cache for this text.
    const bundle = join(app, 'dist', 'commands.cjs')
    writeFileSync(bundle, readFileSync(bundle, 'utf8').replace('ADAPTERS', 'ADAPTORS'))
    expect((await hostList()).stdout).toContain('ADAPTORS')
  })
})

describe.concurrent('aplab mdev, modprobe, dmesg', () => {
  it('refusals are said in plain words with the errno name, and change nothing', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    const u = (await s.run('aplab', ['mdev', 'create', '--uuid', '62177883-f1bb-47f0-914d-32a22e3a8804'])).stdout
    expect(u).toBe('62177883-f1bb-47f0-914d-32a22e3a8804\n')
    const before = readFileSync(s.state)
    const r = await s.run('aplab', ['mdev', 'assign', u.trim(), '--adapter', '5', '--domain', '4'])
    expect(r.stderr).toBe(
      'aplab: cannot assign domain 4 to mdev 62177883-f1bb-47f0-914d-32a22e3a8804: Cannot assign requested address (EADDRNOTAVAIL): an APQN it would add is reserved for the host by apmask and aqmask\n',
    )
    expect(r.exitCode).toBe(1)
    expect(readFileSync(s.state).equals(before)).toBe(true)
    const dup = await s.run('aplab', ['mdev', 'create', '--uuid', u.trim()])
    expect(dup.stderr).toMatch(/File exists \(EEXIST\)/)
  })

  it('modprobe speaks like kmod; dmesg shows the kernel messages', async () => {
    const s = sandbox()
    // kmod 34: removing a module that is not loaded is nothing to do, unless --first-time.
    const absent = await s.run('aplab', ['modprobe', '-r', 'vfio_ap'])
    expect([absent.exitCode, absent.stdout, absent.stderr]).toEqual([0, '', ''])
    const missing = await s.run('aplab', ['modprobe', '-r', '--first-time', 'vfio_ap'])
    expect(missing.stderr).toBe('modprobe: FATAL: Module vfio_ap is not in kernel.\n')
    expect(missing.exitCode).toBe(1)
    expect((await s.run('aplab', ['modprobe', 'vfio_ap'])).exitCode).toBe(0)
    const d = await s.run('aplab', ['dmesg'])
    expect(d.stdout).toMatch(/^\[ *\d+\.\d{6}\] vfio_ap matrix: MDEV: Registered\n$/)
  })
})

describe.concurrent('mdevctl and lsmdev', () => {
  const U = '62177883-f1bb-47f0-914d-32a22e3a8804'

  it('define, modify, start, list and stop a vfio_ap device; aplab mdev sees it', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6'])
    await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab,-0xff'])
    expect((await s.run('mdevctl', ['define', '-u', U, '-p', 'matrix', '-t', 'vfio_ap-passthrough'])).exitCode).toBe(0)
    for (const [attr, value] of [['assign_adapter', '5'], ['assign_domain', '0x47']])
      expect((await s.run('mdevctl', ['modify', '-u', U, '--addattr', attr, '--value', value])).stderr).toBe('')
    const start = await s.run('mdevctl', ['start', '-u', U])
    expect([start.stdout, start.stderr, start.exitCode]).toEqual(['', '', 0])
    const list = await s.run('lsmdev', [])
    expect([list.stdout, list.stderr, list.exitCode]).toEqual([`${U} matrix vfio_ap-passthrough manual (defined)\n`, '', 0])
    expect((await s.run('aplab', ['mdevctl', 'list'])).stdout).toBe(list.stdout)
    expect((await s.run('aplab', ['sysfs', 'cat', `/sys/devices/vfio_ap/matrix/${U}/matrix`])).stdout).toBe('05.0047\n')
    expect((await s.run('aplab', ['mdev', 'stop', U])).exitCode).toBe(0)
    expect((await s.run('mdevctl', ['list'])).stdout).toBe('')
    expect((await s.run('mdevctl', ['list', '-d'])).stdout).toBe(`${U} matrix vfio_ap-passthrough manual\n`)
  })

  it('a failed start reports the kernel error, exits 1 and leaves the state file alone', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    await s.run('mdevctl', ['define', '-u', U, '-p', 'matrix', '-t', 'vfio_ap-passthrough'])
    await s.run('mdevctl', ['modify', '-u', U, '--addattr', 'assign_domain', '--value', '0x100'])
    const before = readFileSync(s.state)
    const r = await s.run('mdevctl', ['start', '-u', U])
    expect(r.stderr).toBe('Error: Failed to write 0x100 to attribute assign_domain\n\nCaused by:\n    No such device (os error 19)\n')
    expect(r.exitCode).toBe(1)
    expect(readFileSync(s.state).equals(before)).toBe(true)
    const a = await s.run('aplab', ['mdev', 'start', U])
    expect(a.stderr).toBe(`aplab: cannot start mdev ${U}: Failed to write 0x100 to attribute assign_domain: No such device (os error 19)\n`)
    expect(readFileSync(s.state).equals(before)).toBe(true)
  })

  it('usage errors are clap 4 texts with exit 2; MDEVCTL_ENV_ROOT points it at a real tree', async () => {
    const s = sandbox()
    const bad = await s.run('mdevctl', ['bogus'])
    expect([bad.stdout, bad.stderr, bad.exitCode]).toEqual(['', "error: unrecognized subcommand 'bogus'\n\nUsage: mdevctl <COMMAND>\n\nFor more information, try '--help'.\n", 2])
    const root = join(s.dir, 'root')
    const empty = await s.run('mdevctl', ['types'], {MDEVCTL_ENV_ROOT: root})
    expect(empty.stderr).toBe(`Error: Required directory "${root}/etc/mdevctl.d" doesn't exist. This may indicate a packaging or installation error\n`)
    expect((await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])).exitCode).toBe(0)
    expect((await s.run('aplab', ['export', root])).exitCode).toBe(0)
    const types = await s.run('mdevctl', ['types'], {MDEVCTL_ENV_ROOT: root})
    expect(types.stdout).toBe((await s.run('mdevctl', ['types'])).stdout)
    expect(types.exitCode).toBe(0)
  })

  it("an exported tree carries a working ap-check: mdevctl on it lists what the host's lists", async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6'])
    await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0x47,-0xab,-0xff'])
    await s.run('aplab', ['mdev', 'create', '--uuid', U])
    await s.run('aplab', ['mdev', 'assign', U, '--adapter', '5', '--domain', '0x47', '--control-domain', '0x47'])
    const root = join(s.dir, 'root')
    await s.run('aplab', ['export', root])
    const onTree = await s.run('mdevctl', ['list', '-v'], {MDEVCTL_ENV_ROOT: root})
    const onHost = await s.run('mdevctl', ['list', '-v'])
    expect(onHost.stdout).toContain('@{0}: {"assign_adapter":"5"}')
    expect([onTree.stdout, onTree.stderr, onTree.exitCode]).toEqual([onHost.stdout, '', 0])
    const bad = await execa(join(root, 'usr/lib/mdevctl/scripts.d/callouts/ap-check'), ['-x'], {reject: false})
    expect([bad.stderr, bad.exitCode]).toEqual(['Unknown operand', 1])
  })
})
