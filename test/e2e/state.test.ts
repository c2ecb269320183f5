// End-to-end: a state file that breaks a rule the kernel keeps is refused by
// every command and never written back; `aplab state check` reports every
// problem and changes nothing; `aplab import` refuses a tree that breaks one.
// Run `node scripts/build.mjs` first (npm test does).

import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'

import {EDITS, U1, U2, edited, twoGuests} from '../invariant-edits.js'

const ROOT = join(import.meta.dirname, '..', '..')
const bin = (name: string) => join(ROOT, 'bin', `${name}.js`)

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})

/** A directory of its own, with the state file path in it (written when `text` is given). */
function sandbox(text?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-state-e2e-'))
  dirs.push(dir)
  const state = join(dir, 'state.yaml')
  if (text !== undefined) writeFileSync(state, text)
  const env = {APLAB_STATE: state, SYSFS_ROOT: '', APLAB_HOST: '', APLAB_UID: ''}
  const run = (name: string, args: string[]) => execa(bin(name), args, {reject: false, env, stripFinalNewline: false})
  return {dir, state, run}
}

const json = (o: unknown): string => JSON.stringify(o, null, 2) + '\n'

describe.concurrent('aplab state check', () => {
  it('a sound file: FILE: ok, exit 0, nothing written (not even the cache)', async () => {
    const s = sandbox(twoGuests())
    const r = await s.run('aplab', ['state', 'check'])
    expect([r.stdout, r.stderr, r.exitCode]).toEqual([`${s.state}: ok\n`, '', 0])
    const j = await s.run('aplab', ['state', 'check', '--json'])
    expect([j.stdout, j.stderr, j.exitCode]).toEqual([json({file: s.state, ok: true, problems: []}), '', 0])
    expect(readdirSync(s.dir)).toEqual(['state.yaml'])
    expect(readFileSync(s.state, 'utf8')).toBe(twoGuests())
  })

  it('a missing file is a fresh default host: ok, and still no file', async () => {
    const s = sandbox()
    const r = await s.run('aplab', ['state', 'check', '--state', s.state])
    expect([r.stdout, r.stderr, r.exitCode]).toEqual([`${s.state}: ok (no file yet: a fresh default host)\n`, '', 0])
    const j = await s.run('aplab', ['--state', s.state, 'state', 'check', '--json'])
    expect([j.stdout, j.exitCode]).toEqual([json({file: s.state, ok: true, problems: []}), 0])
    expect(readdirSync(s.dir)).toEqual([])
  })

  it('every problem, one line each, exit 1; --json lists them; the file is left alone', async () => {
    const text = twoGuests().replace('iommu_group: 1', 'iommu_group: 0').replace('nd: 255', 'nd: 200')
    const s = sandbox(text)
    const problems = [
      {where: 'hosts[0].lpar.usage_domains', message: 'domain 0x00ff is above the highest domain id 200 (ap_max_domain_id)'},
      {where: 'hosts[0].lpar.control_domains', message: 'domain 0x00ff is above the highest domain id 200 (ap_max_domain_id)'},
      {where: 'hosts[0].runtime.mdevs[1].iommu_group', message: `mdev ${U2}: IOMMU group 0 is also mdev ${U1}'s (hosts[0].runtime.mdevs[0])`},
      {where: 'hosts[0].runtime.mdevs[1].domains', message: `mdev ${U2}: domain 0x00ff is above the highest domain id 200`},
      {where: 'hosts[0].runtime.mdevs[1].guest_matrix', message: `mdev ${U2}: guest_matrix has domain 0x00ff, which has no queue devices`},
    ]
    const r = await s.run('aplab', ['state', 'check'])
    expect(r.stdout).toBe(problems.map((p) => `${s.state}: ${p.where}: ${p.message}\n`).join(''))
    expect([r.stderr, r.exitCode]).toEqual(['', 1])
    const j = await s.run('aplab', ['state', 'check', '--json'])
    expect([j.stdout, j.stderr, j.exitCode]).toEqual([json({file: s.state, ok: false, problems}), '', 1])
    expect(readdirSync(s.dir)).toEqual(['state.yaml'])
    expect(readFileSync(s.state, 'utf8')).toBe(text)
  })

  it('a file that is not YAML, or has a field of the wrong kind: the one problem that stops reading', async () => {
    const y = sandbox('version: 1\nhosts: [\n')
    const r = await y.run('aplab', ['state', 'check'])
    expect([r.stdout, r.stderr, r.exitCode]).toEqual([`${y.state}: line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]\n`, '', 1])
    const j = await y.run('aplab', ['state', 'check', '--json'])
    expect(j.stdout).toBe(json({file: y.state, ok: false, problems: [{where: 'line 3, column 1', message: 'Flow sequence in block collection must be sufficiently indented and end with a ]'}]}))
    const f = sandbox(twoGuests().replace('ap_domain: 4', 'ap_domain: many'))
    const k = await f.run('aplab', ['state', 'check', '--json'])
    expect([k.stdout, k.exitCode]).toEqual([json({file: f.state, ok: false, problems: [{where: 'hosts[0].runtime.ap_domain', message: "expected a whole number, found 'many'"}]}), 1])
    const v = sandbox(twoGuests().replace('version: 1', 'version: 9'))
    const n = await v.run('aplab', ['state', 'check'])
    expect([n.stdout, n.exitCode]).toEqual([`${v.state}: version: version 9 was written by a newer aplab (this one reads up to 1)\n`, 1])
    const e = sandbox('')
    const m = await e.run('aplab', ['state', 'check'])
    expect([m.stdout, m.exitCode]).toEqual([`${e.state}: the file is empty\n`, 1])
  })
})

describe.concurrent('a hand edit that breaks a rule: every command refuses, naming the file and the objects, and writes nothing', () => {
  it.each(EDITS)('$rule', async (e) => {
    const text = edited(e)
    const s = sandbox(text)
    const line = `${s.state}: ${e.where}: ${e.message}`
    const w = await s.run('aplab', ['sysfs', 'write', '/sys/bus/ap/apmask', '-7'])
    expect([w.stdout, w.stderr, w.exitCode]).toEqual(['', `aplab: ${line}\n`, 1])
    expect(readFileSync(s.state, 'utf8')).toBe(text)
  })

  it('oclif commands, the drop-ins and mdevctl refuse it too', async () => {
    const e = EDITS[0]
    const text = edited(e)
    const s = sandbox(text)
    const line = `${s.state}: ${e.where}: ${e.message}`
    for (const [tool, args] of [
      ['aplab', ['mdev', 'create']],
      ['aplab', ['guest', 'stop', 'ga']],
      ['chzcrypt', ['-d', '05']],
      ['mdevctl', ['stop', '-u', U2]],
    ] as const) {
      const r = await s.run(tool, [...args])
      expect([r.stdout, r.stderr, r.exitCode], `${tool} ${args.join(' ')}`).toEqual(['', `${tool}: ${line}\n`, 1])
    }
    expect(readFileSync(s.state, 'utf8')).toBe(text)
  })
})

describe('aplab import', () => {
  it('over a host that runs guests is refused; over one whose guests are stopped, it keeps their definitions', async () => {
    const s = sandbox(twoGuests())
    const root = join(s.dir, 'root')
    expect((await s.run('aplab', ['export', root])).exitCode).toBe(0)
    const before = readFileSync(s.state)
    const r = await s.run('aplab', ['import', root])
    expect([r.stdout, r.stderr, r.exitCode]).toEqual(['', "aplab: host 'h0' runs guests: ga, gb (stop or migrate them first)\n", 1])
    expect(readFileSync(s.state).equals(before)).toBe(true)
    for (const g of ['ga', 'gb']) expect((await s.run('aplab', ['guest', 'stop', g])).exitCode).toBe(0)
    expect((await s.run('aplab', ['import', root])).exitCode).toBe(0)
    const list = await s.run('aplab', ['guest', 'list', '--json'])
    expect((JSON.parse(list.stdout) as Array<{name: string; state: string}>).map((g) => [g.name, g.state])).toEqual([['ga', 'shut off'], ['gb', 'shut off']])
    expect((await s.run('aplab', ['state', 'check'])).stdout).toBe(`${s.state}: ok\n`)
    expect((await s.run('aplab', ['guest', 'start', 'ga'])).exitCode).toBe(0)
  })

  it("over a host with libvirt domains, keeps them: virsh's definitions are the host's, not its devices'", async () => {
    const s = sandbox()
    expect((await s.run('aplab', ['init'])).exitCode).toBe(0)
    const xml = join(s.dir, 'g1.xml')
    writeFileSync(xml, "<domain type='kvm'><name>g1</name><memory unit='MiB'>512</memory><os><type arch='s390x'>hvm</type></os></domain>\n")
    expect((await s.run('virsh', ['define', xml])).exitCode).toBe(0)
    const before = await s.run('virsh', ['list', '--all'])
    expect(before.stdout).toContain(' g1 ')
    const root = join(s.dir, 'root')
    expect((await s.run('aplab', ['export', root])).exitCode).toBe(0)
    expect((await s.run('aplab', ['import', root])).exitCode).toBe(0)
    expect((await s.run('virsh', ['list', '--all'])).stdout).toBe(before.stdout)
    expect((await s.run('virsh', ['dumpxml', 'g1'])).exitCode).toBe(0)
    expect((await s.run('aplab', ['state', 'check'])).stdout).toBe(`${s.state}: ok\n`)
  })

  it('a tree that breaks a rule is refused with its file named, and the state is left alone', async () => {
    const s = sandbox(twoGuests())
    const root = join(s.dir, 'root')
    expect((await s.run('aplab', ['export', root])).exitCode).toBe(0)
    const gm = join(root, 'sys/devices/vfio_ap/matrix', U2, 'guest_matrix')
    writeFileSync(gm, '05.0047\n05.00ff\n06.0047\n06.00ff\n')
    const before = readFileSync(s.state)
    const r = await s.run('aplab', ['import', root, '--host', 'copy'])
    expect([r.stdout, r.stderr, r.exitCode]).toEqual(['', `aplab: ${gm}: mdev ${U2}: guest_matrix has adapter 0x06, which is not among the mdev's adapters\n`, 1])
    expect(readFileSync(s.state).equals(before)).toBe(true)
    writeFileSync(gm, '05.0047\n05.00ff\n')
    expect((await s.run('aplab', ['import', root, '--host', 'copy'])).exitCode).toBe(0)
    expect((await s.run('aplab', ['state', 'check'])).stdout).toBe(`${s.state}: ok\n`)
  })
})
