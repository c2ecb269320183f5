// The tools on a real directory tree (SYSFS_ROOT, an exported host): files
// written as fopen("w") writes them, directories listed in readdir(3) order.

import {mkdirSync, mkdtempSync, opendirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {preset} from '../../src/core/presets.js'
import {exportHost} from '../../src/sysfs/export.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {runChzcrypt} from '../../src/tools/chzcrypt.js'
import {Stdio} from '../../src/tools/libc.js'
import {runLszdev} from '../../src/tools/zdev/lszdev.js'
import {RealSys} from '../../src/tools/sys.js'

function chzcrypt(root: string, ...argv: string[]) {
  const io = new Stdio(false)
  const code = runChzcrypt(argv, new RealSys(root), io)
  return {stdout: io.stdout, stderr: io.stderr, code}
}

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'aplab-realsys-'))
  exportHost(preset('default').build('h'), root, false)
  return join(root, 'sys')
}

describe('a tree of plain files', () => {
  it('a shorter value replaces the old one (the file is truncated)', () => {
    const sys = tree()
    expect(readFileSync(join(sys, 'bus/ap/config_time'), 'latin1')).toBe('30\n')
    expect(chzcrypt(sys, '-c', '5', '-V')).toEqual({stdout: 'Setting configuration timer to 5 seconds.\n', stderr: '', code: 0})
    expect(readFileSync(join(sys, 'bus/ap/config_time'), 'latin1')).toBe('5')
  })

  it('chzcrypt -a takes the cards in the order readdir gives them', () => {
    const sys = tree()
    const raw: string[] = []
    const dir = opendirSync(join(sys, 'bus/ap/devices'))
    for (let e = dir.readSync(); e !== null; e = dir.readSync()) if (/^card/.test(e.name)) raw.push(e.name)
    dir.closeSync()
    const r = chzcrypt(sys, '-d', '-a', '-V')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(raw.map((c) => `Setting cryptographic device ${c} offline\n`).join(''))
  })

  it('lszdev reads the masks below SYSFS_ROOT; without a bus/ap there it says nothing and exits 15', () => {
    const empty = mkdtempSync(join(tmpdir(), 'aplab-realsys-'))
    mkdirSync(join(empty, 'bus'))
    writeFileSync(join(empty, 'bus/README'), '')
    const io = new Stdio(false)
    const ctx = {prog: 'lszdev', nodename: 'n', readFile: () => '', writeFile: () => {}, sysfsRoot: empty}
    expect(runLszdev(['-t', 'ap', '-a'], new RealSys(empty), io, ctx)).toBe(15)
    expect([io.stdout, io.stderr]).toEqual(['', ''])
    // On an exported tree it prints exactly what it prints on the host the tree came from.
    const sys = tree()
    const io2 = new Stdio(false)
    expect(runLszdev(['-t', 'ap', '-a'], new RealSys(sys), io2, {...ctx, sysfsRoot: sys})).toBe(0)
    const io3 = new Stdio(false)
    expect(runLszdev(['-t', 'ap', '-a'], hostVfs(preset('default').build('h')), io3, {prog: 'lszdev', nodename: 'n', readFile: () => '', writeFile: () => {}})).toBe(0)
    expect(io2.stdout).toBe(io3.stdout)
    expect(io2.stdout).toContain('  apmask     "0-255"\n')
  })
})
