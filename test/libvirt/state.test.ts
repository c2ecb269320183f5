// End-to-end: a state file whose libvirt domains break a rule libvirtd
// keeps (test/libvirt/edits.ts) is listed by `aplab state check` and
// refused by virsh, naming the file and the objects, and never written.
// Run `node scripts/build.mjs` first (npm test does).

import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'

import {LIBVIRT_EDITS, libvirtDomains} from './edits.js'

const ROOT = join(import.meta.dirname, '..', '..')
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})

function sandbox(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-virsh-state-'))
  dirs.push(dir)
  const state = join(dir, 'state.yaml')
  writeFileSync(state, text)
  const env = {APLAB_STATE: state, SYSFS_ROOT: '', APLAB_HOST: '', APLAB_UID: '', LIBVIRT_DEFAULT_URI: ''}
  const run = (name: string, args: string[]) => execa(join(ROOT, 'bin', `${name}.js`), args, {reject: false, env, stripFinalNewline: false})
  return {dir, state, run}
}

describe.concurrent('libvirt domains broken by hand', () => {
  it('the fixture is sound: state check ok, virsh lists both domains', async () => {
    const s = sandbox(libvirtDomains())
    const c = await s.run('aplab', ['state', 'check'])
    expect([c.stdout, c.stderr, c.exitCode]).toEqual([`${s.state}: ok\n`, '', 0])
    const l = await s.run('virsh', ['list', '--all'])
    expect([l.stdout, l.stderr, l.exitCode]).toEqual([' Id   Name     State\n-------------------------\n 1    guest1   running\n -    guest2   shut off\n\n', '', 0])
  })

  it.each(LIBVIRT_EDITS)('$rule: state check lists it, virsh refuses it, the file stays as it was', async (e) => {
    const text = e.edit(libvirtDomains())
    const s = sandbox(text)
    const line = `${s.state}: ${e.where}: ${e.message}`
    const c = await s.run('aplab', ['state', 'check'])
    expect([c.stdout.split('\n')[0], c.stderr, c.exitCode]).toEqual([line, '', 1])
    for (const args of [['list', '--all'], ['dumpxml', 'guest1'], ['destroy', 'guest1']]) {
      const r = await s.run('virsh', args)
      expect([r.stdout, r.stderr, r.exitCode], args.join(' ')).toEqual(['', `virsh: ${line}\n`, 1])
    }
    expect(readdirSync(s.dir)).toEqual(['state.yaml'])
    expect(readFileSync(s.state, 'utf8')).toBe(text)
  })
})
