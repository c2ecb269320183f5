// What a new user meets: --version, host show, --json with hex IDs, examples
// in every command's help, shell completion (bash and zsh), and the rough
// edges of issue 13 (hex answers, an empty guest said, export's sentence).

import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {COMMANDS} from '../../src/commands.js'

const ROOT = join(import.meta.dirname, '..', '..')
const U = '11111111-1111-4111-8111-111111111111'
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-ux-'))
  const state = join(dir, 'state.yaml')
  const env = {APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: '', NO_COLOR: ''}
  const run = async (...args: string[]) => {
    const r = await execa(process.execPath, [join(ROOT, 'bin', 'aplab.js'), ...args], {reject: false, env, stripFinalNewline: false})
    return {stdout: r.stdout as string, stderr: r.stderr as string, code: r.exitCode}
  }
  const ok = async (...args: string[]) => {
    const r = await run(...args)
    expect(r.stderr, args.join(' ')).toBe('')
    expect(r.code).toBe(0)
    return r.stdout
  }
  return {dir, state, env, run, ok, done: () => rmSync(dir, {recursive: true, force: true})}
}

describe.concurrent('a new user', () => {
  it('aplab --version names the version', async () => {
    const s = sandbox()
    expect(await s.ok('--version')).toMatch(new RegExp(`^aplab/${VERSION.replace(/\./g, '\\.')} linux-\\w+ node-v\\d+\\.\\d+\\.\\d+\\n$`))
    // Answered without oclif: the very line oclif's configuration gives, extra words or not.
    const {Config} = await import('@oclif/core')
    const agent = (await Config.load(ROOT)).userAgent + '\n'
    expect(await s.ok('--version')).toBe(agent)
    expect(await s.ok('--version', 'extra')).toBe(agent)
    s.done()
  })

  it('every command has examples in its help', () => {
    for (const [id, cls] of Object.entries(COMMANDS as Record<string, {examples?: unknown[]}>)) expect(cls.examples?.length ?? 0, id).toBeGreaterThan(0)
  })

  it('host show, as text and JSON with IDs in hex', async () => {
    const s = sandbox()
    await s.ok('init', '--preset', 'vfio-ap-doc')
    await s.ok('sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6')
    await s.ok('host', 'cmdline', 'set', 'root=/dev/vda1 ap.apmask=0x0')
    const text = await s.ok('host', 'show')
    expect(text.split('\n').slice(0, 8)).toEqual([
      'name:            host0 (current)',
      'adapters:        05 CEX5C, 06 CEX5A',
      'usage domains:   0x0004,0x0047,0x00ab,0x00ff',
      'control domains: 0x0004,0x0047,0x00ab,0x00ff',
      'qci:             APSC APXA QACT (adapters up to 0xff, domains up to 0x00ff)',
      'apmask:          0x00-0x04,0x07-0xff',
      'aqmask:          0x0000-0x00ff',
      'default domain:  0x0004',
    ])
    expect(text).toMatch(/\nnext boot: {7}root=\/dev\/vda1 ap\.apmask=0x0\n$/)
    const j = JSON.parse(await s.ok('host', 'show', 'host0', '--json'))
    expect(j).toMatchObject({name: 'host0', current: true, usage_domains: ['0x0004', '0x0047', '0x00ab', '0x00ff'], apmask: '0x00-0x04,0x07-0xff', next_cmdline: 'root=/dev/vda1 ap.apmask=0x0'})
    expect(j.adapters[0]).toEqual({id: '0x05', type: 'CEX5C', configured: true, checkstopped: false})
    expect(await s.run('host', 'show', 'nosuch')).toEqual({stdout: '', stderr: "aplab: no host named 'nosuch' (hosts: host0)\n", code: 1})
    expect(JSON.parse(await s.ok('host', 'cmdline', 'show', '--json'))).toMatchObject({host: 'host0', cmdline: 'root=/dev/vda1 ap.apmask=0x0'})
    s.done()
  })

  it('--json of mdev list, mdev show, guest show and dmesg', async () => {
    const s = sandbox()
    await s.ok('init', '--preset', 'vfio-ap-doc')
    await s.ok('sysfs', 'write', '/sys/bus/ap/apmask', '--', '-5,-6')
    await s.ok('sysfs', 'write', '/sys/bus/ap/aqmask', '--', '-4,-0xab')
    await s.ok('mdev', 'create', '--uuid', U)
    await s.ok('mdev', 'assign', U, '--adapter', '5', '--domain', '0xab', '--control-domain', '0xab')
    await s.ok('guest', 'start', 'g1', '--', '-cpu', 'host,ap=on,apqci=on,apft=on,apqi=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U},id=vfio0`)
    const matrix = {adapters: ['0x05'], domains: ['0x00ab'], control_domains: ['0x00ab']}
    expect(JSON.parse(await s.ok('mdev', 'list', '--json'))).toEqual([{uuid: U, active: true, defined: null, ...matrix, guest_matrix: matrix}])
    expect(JSON.parse(await s.ok('mdev', 'show', U, '--json'))).toEqual({uuid: U, active: true, defined: null, ...matrix, guest_matrix: matrix, guest: 'g1'})
    // The text says the same.
    expect(await s.ok('mdev', 'show', U)).toContain('matrix:          05.00ab\n')
    expect(JSON.parse(await s.ok('guest', 'show', 'g1', '--json'))).toMatchObject({name: 'g1', apqns: ['05.00ab'], control_domains: ['00ab']})
    expect(await s.ok('guest', 'show', 'g1')).toContain('apqns:           05.00ab\ncontrol domains: 00ab\n')
    const log = JSON.parse(await s.ok('dmesg', '--json'))
    expect(log.dmesg[0]).toEqual({pri: 6, time: expect.any(Number), msg: 'vfio_ap matrix: MDEV: Registered'})
    expect(await s.ok('dmesg', '-J')).toBe(await s.ok('dmesg', '--json'))
    s.done()
  })
})

it('init --list --json lists the presets', async () => {
  const s = sandbox()
  const presets = JSON.parse(await s.ok('init', '--list', '--json'))
  expect(presets.map((p: {name: string}) => p.name)).toEqual(['default', 'vfio-ap-doc', 'ibm-doc', 'max', 'se-guest'])
  expect(await s.run('init', '--json')).toEqual({stdout: '', stderr: "aplab: All of the following must be provided when using --json: --list\nTry 'aplab init --help' for more information.\n", code: 1})
  s.done()
})

describe.concurrent('rough edges', () => {
  it('hw adapter/domain add out of range answer in hex', async () => {
    const s = sandbox()
    expect(await s.run('hw', 'adapter', 'add', '0x100', '--type', 'CEX8C')).toEqual({
      stdout: '',
      stderr: 'aplab: adapter 0x100 is out of range: this LPAR has adapter ids 0x00 to 0xff (ap_max_adapter_id)\n',
      code: 1,
    })
    expect((await s.run('hw', 'domain', 'add', '85')).stderr).toBe('aplab: domain 0x0055 is out of range: this LPAR has domain ids 0x0000 to 0x0054 (ap_max_domain_id)\n')
    s.done()
  })

  it('guest start of a new guest without QEMU arguments says so; a restart does not', async () => {
    const s = sandbox()
    expect(await s.run('guest', 'start', 'bare')).toEqual({
      stdout: '',
      stderr: 'aplab: note: guest bare started without QEMU arguments: it has no AP (give -cpu MODEL,ap=on,... and -device vfio-ap,sysfsdev=PATH after --)\n',
      code: 0,
    })
    await s.ok('guest', 'stop', 'bare')
    expect(await s.run('guest', 'start', 'bare')).toEqual({stdout: '', stderr: '', code: 0})
    s.done()
  })

  it('export to a file or below one says so in a sentence', async () => {
    const s = sandbox()
    const file = join(s.dir, 'passwd')
    await execa('touch', [file])
    expect(await s.run('export', file)).toEqual({stdout: '', stderr: `aplab: cannot export to ${file}: ${file} exists and is not a directory\n`, code: 1})
    expect((await s.run('export', join(file, 'x'))).stderr).toBe(`aplab: cannot export to ${file}/x: ${file}/x: a part of the path is not a directory\n`)
    s.done()
  })
})

describe.concurrent('shell completion', () => {
  async function lab() {
    const s = sandbox()
    await s.ok('init', '--preset', 'vfio-ap-doc')
    await s.ok('host', 'add', 'lpar2', '--preset', 'default')
    await s.ok('mdev', 'create', '--uuid', U)
    await s.ok('guest', 'start', 'web1', '--', '-cpu', 'host,ap=on')
    const bin = join(s.dir, 'bin')
    await execa('mkdir', [bin])
    symlinkSync(join(ROOT, 'bin', 'aplab.js'), join(bin, 'aplab'))
    return {...s, path: `${bin}:${process.env.PATH}`}
  }
  const complete = async (s: Awaited<ReturnType<typeof lab>>, ...words: string[]) => (await s.ok('__complete', ...words)).split('\n').filter(Boolean)

  it('completes commands, flags, UUIDs, guests, hosts and presets', async () => {
    const s = await lab()
    expect(await complete(s, 'md')).toEqual(['mdev', 'mdevctl'])
    expect(await complete(s, 'mdev', 's')).toEqual(['show', 'start', 'stop'])
    expect(await complete(s, 'mdev', 'show', '')).toEqual([U])
    expect(await complete(s, '--host', 'lpar2', 'mdev', 'show', '')).toEqual([])
    expect(await complete(s, 'mdev', 'assign', U, '--d')).toEqual(['--domain'])
    expect(await complete(s, 'guest', 'exec', 'w')).toEqual(['web1'])
    expect(await complete(s, 'guest', 'migrate', 'web1', '--to', '')).toEqual(['host0', 'lpar2'])
    expect(await complete(s, '--host', 'l')).toEqual(['lpar2'])
    expect(await complete(s, 'init', '--preset', 'v')).toEqual(['vfio-ap-doc'])
    expect(await complete(s, 'hw', '')).toEqual(['adapter', 'domain'])
    expect(await complete(s, 'matrix', '--guest', '')).toEqual(['web1'])
    // A path is the shell's to complete: no candidates.
    expect(await complete(s, 'export', '')).toEqual([])
    s.done()
  })

  it('the bash script completes through aplab __complete', async () => {
    const s = await lab()
    const script = await s.ok('autocomplete', 'bash')
    const r = await execa('bash', ['-c', `eval "$(aplab autocomplete bash)"; COMP_WORDS=(aplab guest show ''); COMP_CWORD=3; _aplab_complete; printf '%s\\n' "\${COMPREPLY[@]}"; complete -p aplab`], {
      env: {...s.env, PATH: s.path},
    })
    expect(script).toContain('complete -o default -F _aplab_complete aplab\n')
    expect(r.stdout).toBe('web1\ncomplete -o default -F _aplab_complete aplab')
    s.done()
  })

  it.skipIf(spawnSync('zsh', ['-fc', 'true']).error !== undefined)('the zsh script defines _aplab (skipped without zsh)', async () => {
    const s = await lab()
    const r = await execa('zsh', ['-fc', `autoload -U compinit && compinit -u -D; eval "$(aplab autocomplete zsh)"; whence -w _aplab`], {env: {...s.env, PATH: s.path}, reject: false})
    expect(r.stdout).toBe('_aplab: function')
    s.done()
  })
})

it('a global install as the README gives it prints no warning and puts the drop-ins on PATH', async () => {
  const s = sandbox()
  const prefix = join(s.dir, 'global')
  const r = await execa('npm', ['install', '-g', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, '.'], {cwd: ROOT, reject: false})
  expect(r.stderr).toBe('')
  expect(r.exitCode).toBe(0)
  // The linked drop-in is this clone's.
  const linked = await execa(join(prefix, 'bin', 'lszcrypt'), ['-c', '00'], {env: s.env, reject: false})
  const here = await execa(process.execPath, [join(ROOT, 'bin', 'lszcrypt.js'), '-c', '00'], {env: s.env, reject: false})
  expect(linked.stdout).toMatch(/^card00 provides capability for:\n/)
  expect(linked.stdout).toBe(here.stdout)
  s.done()
}, 60000)
