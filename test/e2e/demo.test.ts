// aplab demo: the three-guest example played through the built binaries on
// a throwaway state, which is gone afterwards; the user's state is untouched.

import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {expect, it} from 'vitest'

import {DEMO} from '../../src/cli/demo.js'

const ROOT = join(import.meta.dirname, '..', '..')

it('plays every step, shows the real output and leaves nothing behind', async () => {
  const home = mkdtempSync(join(tmpdir(), 'aplab-demo-test-'))
  const tmp = mkdtempSync(join(tmpdir(), 'aplab-demo-tmp-'))
  const own = join(home, 'mine.yaml')
  const r = await execa(process.execPath, [join(ROOT, 'bin', 'aplab.js'), 'demo', '--step'], {
    reject: false,
    input: '\n'.repeat(5),
    env: {APLAB_STATE: own, APLAB_HOST: 'nosuch', TMPDIR: tmp, NO_COLOR: '1'},
  })
  expect(r.stderr).toMatch(/^aplab: cannot assign adapter 6 to mdev [0-9a-f-]{36}: Address already in use \(EADDRINUSE\)/)
  expect(r.exitCode).toBe(0)
  const out = r.stdout as string
  // Each step as typed, then a note; --step asks before every step after the first (the input ran out after five).
  expect(out.match(/^(\[Enter\] )*\$ /gm)).toHaveLength(DEMO.length)
  expect(out.match(/\[Enter\] /g)).toHaveLength(DEMO.length - 1)
  for (const s of DEMO) expect(out).toContain(`# ${s.note}\n`)
  const [u1] = /^[0-9a-f-]{36}$/m.exec(out)!
  expect(out).toContain(`$ aplab guest start --autostart guest1 -- -cpu host,ap=on,apqci=on,apft=on,apqi=on -device vfio-ap,sysfsdev=/sys/bus/mdev/devices/${u1},id=vfio0\n`)
  expect(out).toContain(
    '$ aplab guest exec guest2 -- lszcrypt\nCARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n' +
      '05       CEX5C CCA-Coproc  online            0\n05.0047  CEX5C CCA-Coproc  online            0\n05.00ff  CEX5C CCA-Coproc  online            0\n',
  )
  // The refusals' messages went to standard error, as in a shell.
  expect(out).toContain('$ aplab guest migrate guest1 --to lpar2\n# Refused: a vfio-ap device cannot be migrated; QEMU says so.\n')
  expect(r.stderr).toMatch(/\nError: State blocked by non-migratable device '\/1\/vfio-ap'$/)
  expect(out).toContain('$ aplab --host lpar2 matrix\nhost lpar2: 2 adapters x 4 domains shown of 256 x 256\n')
  expect(out).not.toMatch(/\x1b\[/)
  // The throwaway state is gone, and the user's own was never created.
  expect(readdirSync(tmp)).toEqual([])
  expect(existsSync(own)).toBe(false)
  rmSync(home, {recursive: true, force: true})
  rmSync(tmp, {recursive: true, force: true})
}, 120000)
