// The README's short tour, run as written (npx standing for the built
// binaries, /tmp/host for a scratch directory): every step succeeds except
// those its comment says are refused, so the README stays true.

import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {expect, it} from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

function tour(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const block = /## A short tour\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)
  if (!block) throw new Error('README.md has no short tour')
  return block[1].replace(/\\\n\s*/g, '').split('\n').filter((l) => l.trim() !== '')
}

it('every step of the tour does what its comment says', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-readme-'))
  const steps = tour()
  const script = [
    'npx() { node "$APLAB_ROOT/bin/$1.js" "${@:2}"; }',
    ...steps.map((s, i) => `${s.replaceAll('/tmp/host', `${dir}/host`)}\necho "@@ ${i} $?" >&3`),
  ].join('\n')
  const r = await execa('bash', ['-c', `exec 3>"${dir}/rc"; ${script}`], {
    reject: false,
    env: {APLAB_ROOT: ROOT, APLAB_STATE: join(dir, 'state.yaml'), APLAB_HOST: '', APLAB_UID: '', SYSFS_ROOT: ''},
  })
  expect(r.exitCode).toBe(0)
  const codes = readFileSync(join(dir, 'rc'), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[2]))
  expect(codes).toHaveLength(steps.length)
  steps.forEach((s, i) => {
    const refused = /#.*refused/.test(s)
    expect(codes[i] !== 0, `${s}\n${r.stderr}`).toBe(refused)
  })
  expect(r.stderr).not.toMatch(/^\s+at /m)
  // The tour starts with a throwaway state of its own: the state it was given is never written.
  expect(steps[0]).toMatch(/^export APLAB_STATE=\$\(mktemp -d\)\/state\.yaml\b/)
  expect(existsSync(join(dir, 'state.yaml'))).toBe(false)
  expect(readFileSync(join(dir, 'host.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/)
}, 180000)

it("the README's first command plays the demo", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const first = /^```sh\n(.*)\n(.*)\n```/m.exec(readme)!
  expect(first[1]).toMatch(/^npm ci && npx aplab demo\s+#/)
  expect(first[2]).toMatch(/^npm test\s+#/)
})
