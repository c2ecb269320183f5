// End-to-end, through the built binaries: where the real tool is killed by a
// signal (util_assert's abort, json-c's assert, a segfault), the drop-in is
// killed by the same signal after the same output, so a parent's waitpid
// sees a signal and not exit status 134 or 139; and bytes the real tool
// writes that are not text (getopt's optopt of a long-only option) come out
// as those bytes. Core dumps are off for the spawned processes.

import {type SpawnSyncReturns, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {jsoncArrayAssert, utilAssertBanner} from './util.js'

const ROOT = join(import.meta.dirname, '..', '..')
const DIR = mkdtempSync(join(tmpdir(), 'aplab-dying-'))
const TREE = join(DIR, 'host')
const STATE = join(DIR, 'state.yaml')
const U = '11111111-2222-3333-4444-555555555555'
const AP_CHECK = ['-t', 'vfio_ap-passthrough', '-e', 'pre', '-a', 'define', '-s', 'none', '-u', U, '-p', 'matrix']

/** Run bin/NAME with `ulimit -c 0`; env is the whole environment, in this order. */
function run(name: string, args: string[], env: Record<string, string> = {}, input = ''): SpawnSyncReturns<Buffer> {
  return spawnSync('/bin/sh', ['-c', 'ulimit -c 0; exec "$@"', 'sh', process.execPath, join(ROOT, 'bin', `${name}.js`), ...args], {
    env: {APLAB_STATE: STATE, ...env},
    input,
  })
}

beforeAll(() => {
  expect(run('aplab', ['init', '--preset', 'vfio-ap-doc', '--force']).status).toBe(0)
  expect(run('aplab', ['export', TREE]).status).toBe(0)
  mkdirSync(join(TREE, 'etc/udev/rules.d'), {recursive: true})
  mkdirSync(join(TREE, 'etc/mdevctl.d/matrix'), {recursive: true})
})
afterAll(() => rmSync(DIR, {recursive: true, force: true}))

describe.sequential('dying like the real tool', () => {
  it('chzdev and lszdev: util_assert at ap.c:249 ends the process by SIGABRT', () => {
    writeFileSync(join(TREE, 'etc/udev/rules.d/41-ap.rules'), 'ATTR{../../bus/ap/apmask}="0xffff"\n')
    const banner = utilAssertBanner('(strlen(hexbytestr) >= (size_t)(AP_MASK_SIZE - i - 1))', 'Invalid hex string provided for mask: 0xffff', 'ap.c:249: get_hexbyte_value()')
    for (const [tool, args] of [
      ['chzdev', ['-t', 'ap', '-p', 'apmask=+1']],
      ['lszdev', ['-t', 'ap', '-p']],
    ] as const) {
      const r = run(tool, [...args, '--base', `/etc=${TREE}/etc`], {SYSFS_ROOT: join(TREE, 'sys')})
      expect([r.status, r.signal]).toEqual([null, 'SIGABRT'])
      expect(r.stdout.toString()).toBe('')
      expect(r.stderr.toString()).toBe(banner)
    }
    rmSync(join(TREE, 'etc/udev/rules.d/41-ap.rules'))
  })

  it('chzdev: an autostart definition without mdev_type is a segfault (SIGSEGV)', () => {
    writeFileSync(join(TREE, 'etc/mdevctl.d/matrix', U), '{"start": "auto", "attrs": [{"assign_adapter": "0"}]}')
    writeFileSync(join(TREE, 'sys/bus/ap/apmask'), '0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n')
    const r = run('chzdev', ['-t', 'ap', '-p', 'apmask=+0', '--base', `/etc=${TREE}/etc`], {SYSFS_ROOT: join(TREE, 'sys')})
    expect([r.status, r.signal, r.stdout.toString(), r.stderr.toString()]).toEqual([null, 'SIGSEGV', '', ''])
    rmSync(join(TREE, 'etc/mdevctl.d/matrix', U))
  })

  it("ap-check: json-c's assert (SIGABRT) and a NULL object table (SIGSEGV)", () => {
    const a = run('aplab', ['ap-check', '--root', TREE, ...AP_CHECK], {}, '{"mdev_type": "vfio_ap-passthrough", "attrs": null}')
    expect([a.status, a.signal, a.stdout.toString(), a.stderr.toString()]).toEqual([null, 'SIGABRT', '', jsoncArrayAssert('ap-check')])
    const s = run('aplab', ['ap-check', '--root', TREE, ...AP_CHECK], {}, '{"mdev_type": "vfio_ap-passthrough", "attrs": [5]}')
    expect([s.status, s.signal, s.stdout.toString(), s.stderr.toString()]).toEqual([null, 'SIGSEGV', '', ''])
    // json-c's JSON otherwise: a manual device with a trailing comma is fine.
    const ok = run('aplab', ['ap-check', '--root', TREE, ...AP_CHECK], {}, '{"mdev_type": "vfio_ap-passthrough", "start": "manual",} x')
    expect([ok.status, ok.signal, ok.stderr.toString()]).toEqual([0, null, ''])
  })
})

describe('bytes that are not text', () => {
  it("lszcrypt --cardonly=1: optopt is 0x84, printed as that byte; chzdev --all=1: 0x80", () => {
    const r = run('lszcrypt', ['--cardonly=1'])
    expect(r.status).toBe(1)
    expect(r.stderr).toEqual(Buffer.concat([Buffer.from("lszcrypt: Invalid option '-"), Buffer.of(0x84), Buffer.from("'\nTry 'lszcrypt --help' for more information.\n")]))
    const z = run('chzdev', ['--all=1'])
    expect(z.status).toBe(1)
    expect(z.stderr).toEqual(Buffer.concat([Buffer.from("chzdev: Unrecognized option '-"), Buffer.of(0x80), Buffer.from("'\nUse 'chzdev --help' for more information\n")]))
  })

  it('lszcrypt with an empty last id reads the first environment string as its domain', () => {
    // APLAB_STATE=... comes first: "A" is domain 0xa, which no card has.
    const r = run('lszcrypt', [''])
    expect([r.status, r.stdout.toString(), r.stderr.toString()]).toEqual([
      1,
      'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n',
      'lszcrypt: No queue devices with given domain value found.\n',
    ])
    // PATH=... is not hexadecimal.
    const p = spawnSync(process.execPath, [join(ROOT, 'bin', 'lszcrypt.js'), ''], {env: {PATH: '/usr/bin', APLAB_STATE: STATE}})
    expect([p.status, p.stderr.toString()]).toEqual([0, ''])
    expect(p.stdout.toString().endsWith('Invalid adpater id!\n')).toBe(true)
  })
})
