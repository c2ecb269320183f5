// The dmesg drop-in: util-linux 2.38.1's formats and options on the host's
// ring buffer, records with their level and facility.

import {readFileSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import YAML from 'yaml'

import {KERN_INFO, KERN_NOTICE, KERN_WARNING, LOG_DAEMON, LOG_KERN, newRecords, originOf} from '../../src/core/dmesg.js'
import type {LogLine} from '../../src/core/model.js'
import {readWorld, worldToData} from '../../src/state/schema.js'
import {DMESG_HELP, DMESG_VERSION, mayClear, runDmesg} from '../../src/tools/dmesg.js'
import {dmesgOutput} from '../../src/views/dmesg.js'
import {twoGuests} from '../invariant-edits.js'
import {cleanSandboxes, sandbox} from './helpers.js'

afterAll(cleanSandboxes)

const U1 = '62177883-f1bb-47f0-914d-32a22e3a8804'
const U2 = '11111111-1111-4111-8111-111111111111'
const SHARE = `vfio_ap_mdev ${U1}: Userspace may not assign queue 05.0004 to mdev: already assigned to ${U2}`
const MODULE = "systemd-modules-load[1]: Failed to insert module 'vfio_ap': No such device"
const LOG: LogLine[] = [
  {t: 2000, level: KERN_INFO, facility: LOG_KERN, msg: 'vfio_ap matrix: MDEV: Registered'},
  {t: 6691468810, level: KERN_WARNING, facility: LOG_KERN, msg: SHARE},
  {t: 6700000000, level: KERN_NOTICE, facility: LOG_DAEMON, msg: MODULE},
]
const [A, B, C] = LOG.map((l) => l.msg)
/** 2026-12-06 22:56:40 UTC. */
const BOOT = Date.UTC(2026, 11, 6, 22, 56, 40)
const TRY = "Try 'dmesg --help' for more information.\n"
const run = (...argv: string[]) => runDmesg(argv, LOG, BOOT, 0)
const out = (...argv: string[]) => run(...argv).stdout
const ok = (stdout: string, clear = false) => ({stdout, stderr: '', code: 0, clear})
const fail = (stderr: string) => ({stdout: '', stderr, code: 1, clear: false})

beforeAll(() => {
  process.env.TZ = 'UTC'
})

describe('dmesg', () => {
  it('prints the records in its default, -t, -T and --time-format iso formats', () => {
    expect(run()).toEqual(ok(`[    0.002000] ${A}\n[ 6691.468810] ${B}\n[ 6700.000000] ${C}\n`))
    expect(out('-t')).toBe(`${A}\n${B}\n${C}\n`)
    expect(out('-T').split('\n')[1]).toBe(`[Mon Dec  7 00:48:11 2026] ${B}`)
    expect(out('--time-format', 'iso').split('\n')[1]).toBe(`2026-12-07T00:48:11,468810+00:00 ${B}`)
    expect(out('--time-format=notime')).toBe(`${A}\n${B}\n${C}\n`)
  })

  it('-r: <facility|level> (glibc LOG_MAKEPRI of the unshifted facility), then [seconds]', () => {
    expect(out('-r')).toBe(`<6>[    0.002000] ${A}\n<4>[ 6691.468810] ${B}\n<7>[ 6700.000000] ${C}\n`)
    // --time-format notime is not -t: no conflict, and dmesg skips the time, so it reads 0.
    expect(out('--raw', '--time-format', 'notime')).toBe(`<6>[    0.000000] ${A}\n<4>[    0.000000] ${B}\n<7>[    0.000000] ${C}\n`)
    expect(out('-r', '--time-format', 'ctime').split('\n')[1]).toBe(`<4>[ 6691.468810] ${B}`)
    // A facility dmesg has no name for: local0 (16) is past its table, unknown (-1).
    expect(runDmesg(['-r'], [{t: 0, level: 5, facility: 16, msg: 'x'}, {t: 0, level: 5, facility: 12, msg: 'y'}], BOOT, 0).stdout).toBe('<-1>[    0.000000] x\n<13>[    0.000000] y\n')
  })

  it('-x: facility and level names, each padded to 6, before any time format', () => {
    expect(out('-x')).toBe(`kern  :info  : [    0.002000] ${A}\nkern  :warn  : [ 6691.468810] ${B}\ndaemon:notice: [ 6700.000000] ${C}\n`)
    expect(out('--decode', '-t')).toBe(`kern  :info  : ${A}\nkern  :warn  : ${B}\ndaemon:notice: ${C}\n`)
    expect(out('-xT').split('\n')[0]).toBe(`kern  :info  : [Sun Dec  6 22:56:40 2026] ${A}`)
    expect(out('-x', '--time-format', 'iso').split('\n')[2]).toBe(`daemon:notice: 2026-12-07T00:48:20,000000+00:00 ${C}`)
    expect(out('-x', '-H')).toBe(`kern  :info  : [Dec 6 22:56] ${A}\nkern  :warn  : [Dec 7 00:48] ${B}\ndaemon:notice: [  +8.531190] ${C}\n`)
    expect(out('-x', '-d', '-t')).toBe(`kern  :info  : [<    0.000000>] ${A}\nkern  :warn  : [< 6691.466810>] ${B}\ndaemon:notice: [<    8.531190>] ${C}\n`)
    // Facilities past dmesg's names get no prefix.
    expect(runDmesg(['-x'], [{t: 0, level: 5, facility: 16, msg: 'x'}], BOOT, 0).stdout).toBe('[    0.000000] x\n')
  })

  it('-d, -e, -H and --time-format delta|reltime: deltas and minutes as util-linux prints them', () => {
    expect(out('-d')).toBe(`[    0.002000 <    0.000000>] ${A}\n[ 6691.468810 < 6691.466810>] ${B}\n[ 6700.000000 <    8.531190>] ${C}\n`)
    expect(out('-dT').split('\n')[2]).toBe(`[Mon Dec  7 00:48:20 2026 <    8.531190>] ${C}`)
    expect(out('--time-format', 'delta')).toBe(out('-d', '-t'))
    expect(out('-e')).toBe(`[Dec 6 22:56] ${A}\n[Dec 7 00:48] ${B}\n[  +8.531190] ${C}\n`)
    expect(out('--time-format', 'reltime')).toBe(out('-H'))
    const late = [...LOG, {t: 6712000000, level: 6, facility: 0, msg: 'z'}, {t: 6712000001, level: 6, facility: 0, msg: 'w'}]
    expect(runDmesg(['-H'], late, BOOT, 0).stdout.split('\n').slice(3)).toEqual(['[ +12.000000] z', '[  +0.000001] w', ''])
    expect(run('-d', '--time-format', 'iso')).toEqual({
      stdout: out('--time-format', 'iso'),
      stderr: 'dmesg: --show-delta is ignored when used together with iso8601 time format\n',
      code: 0,
      clear: false,
    })
  })

  it('-l: a comma list of level names (any case) or numbers; unknown ones as util-linux says them', () => {
    expect(out('-l', 'warn,notice')).toBe(`[ 6691.468810] ${B}\n[ 6700.000000] ${C}\n`)
    expect(out('--level=4')).toBe(`[ 6691.468810] ${B}\n`)
    expect(out('-lINFO', '-l', 'notice', '-t')).toBe(`${A}\n${C}\n`)
    expect(run('-l', 'err')).toEqual(ok(''))
    expect(run('--level=')).toEqual(ok(''))
    expect(run('-l', 'foo')).toEqual(fail("dmesg: unknown level 'foo'\n"))
    expect(run('-l', 'err,foo,info')).toEqual(fail("dmesg: unknown level 'foo,info'\n"))
    expect(run('-l', 'err,')).toEqual(fail("dmesg: unknown level 'err,'\n"))
    expect(run('-l', 'warning')).toEqual(fail("dmesg: unknown level 'warning'\n"))
    expect(run('-l', 'in')).toEqual(fail("dmesg: unknown level 'in'\n"))
    expect(run('-l', '8')).toEqual(fail("dmesg: unknown level '8'\n"))
    expect(run('-l', '4x')).toEqual(fail("dmesg: unknown level '4x'\n"))
    expect(run('-l', '99999999999999999999,info')).toEqual(fail("dmesg: failed to parse level '99999999999999999999,info': Numerical result out of range\n"))
    // An empty item fails without a word.
    expect(run('-l', ',err')).toEqual(fail(''))
    expect(run('-l', 'err,,info')).toEqual(fail(''))
    expect(run('-l')).toEqual(fail(`dmesg: option requires an argument -- 'l'\n${TRY}`))
    expect(run('--level')).toEqual(fail(`dmesg: option '--level' requires an argument\n${TRY}`))
    // The first error ends dmesg: a bad list before -r -x is reported, after them the conflict is.
    expect(run('-l', 'foo', '-r', '-x')).toEqual(fail("dmesg: unknown level 'foo'\n"))
    expect(run('-r', '-x', '-l', 'foo')).toEqual(fail('dmesg: mutually exclusive arguments: --raw --decode\n'))
  })

  it('-f, -k, -u: facilities; -r and -J and -x keep to what is printed', () => {
    expect(out('-k', '-t')).toBe(`${A}\n${B}\n`)
    expect(out('-u', '-t')).toBe(`${C}\n`)
    expect(out('-f', 'DAEMON', '-r')).toBe(`<7>[ 6700.000000] ${C}\n`)
    expect(out('-f', 'kern,3', '-t')).toBe(`${A}\n${B}\n${C}\n`)
    expect(out('-f', 'user,mail,auth,syslog,lpr,news,uucp,cron,authpriv,ftp')).toBe('')
    expect(out('-k', '-l', 'notice')).toBe('')
    expect(run('-f', 'local0')).toEqual(fail("dmesg: unknown facility 'local0'\n"))
    expect(run('-f', '12')).toEqual(fail("dmesg: unknown facility '12'\n"))
    expect(run('--facility')).toEqual(fail(`dmesg: option '--facility' requires an argument\n${TRY}`))
  })

  it('-J: "pri" (facility | level) before "time"; with -x "fac" and "pri" by name; -r and -t give way', () => {
    const rec = (pri: string, time: string, msg: string) => `         ${pri}\n         "time": ${time},\n         "msg": ${JSON.stringify(msg)}\n`
    const json = (...recs: string[]) => `{\n   "dmesg": [\n      {\n${recs.join('      },{\n')}      }\n   ]\n}\n`
    const all = json(rec('"pri": 6,', '    0.002000', A), rec('"pri": 4,', ' 6691.468810', B), rec('"pri": 7,', ' 6700.000000', C))
    expect(run('-J')).toEqual(ok(all))
    expect(out('--json', '-t', '-d', '-p')).toBe(all)
    expect(out('-J', '-r')).toBe(all)
    expect(JSON.parse(all)).toEqual({dmesg: [{pri: 6, time: 0.002, msg: A}, {pri: 4, time: 6691.46881, msg: B}, {pri: 7, time: 6700, msg: C}]})
    expect(out('-J', '-x', '-l', 'warn')).toBe(json(rec('"fac": "kern",\n         "pri": "warn",', ' 6691.468810', B)))
    expect(out('-J', '-l', 'err')).toBe('')
    expect(runDmesg(['-J'], [], BOOT, 0)).toEqual(ok(''))
    // A facility without a name has no "pri"; an empty record is left out.
    const odd = [{t: 0, level: 6, facility: 16, msg: 'x"\n\u0001'}, {t: 0, level: 6, facility: 0, msg: ''}]
    expect(runDmesg(['-J'], odd, BOOT, 0).stdout).toBe(json('         "time":     0.000000,\n         "msg": "x\\"\\n\\u0001"\n'))
  })

  it('escapes what is not printable, indents continuation lines, and with -p repeats the prefix', () => {
    const multi = [{t: 2000, level: 3, facility: 0, msg: 'one\ntwo\u0001\u0085\n'}, {t: 3000, level: 3, facility: 0, msg: ''}]
    expect(runDmesg([], multi, BOOT, 0).stdout).toBe('[    0.002000] one\n               two\\x01\\xc2\\x85\n\n\n')
    expect(runDmesg(['-x', '--noescape'], multi, BOOT, 0).stdout).toBe('kern  :err   : [    0.002000] one\n                              two\u0001\u0085\n\n\n')
    expect(runDmesg(['-p', '-x'], multi, BOOT, 0).stdout).toBe('kern  :err   : [    0.002000] one\nkern  :err   : [    0.002000] two\\x01\\xc2\\x85\n\n')
    expect(runDmesg(['-p', '-H'], multi, BOOT, 0).stdout).toBe('[Dec 6 22:56] one\n[  +0.000000] two\\x01\\xc2\\x85\n\n')
  })

  it('mutually exclusive options, named as util-linux names them', () => {
    const excl = (names: string) => fail(`dmesg: mutually exclusive arguments: ${names}\n`)
    expect(run('-r', '-x')).toEqual(excl('--raw --decode'))
    expect(run('-x', '--raw')).toEqual(excl('--raw --decode'))
    expect(run('-rt')).toEqual(excl('--raw --notime'))
    expect(run('-T', '-r')).toEqual(excl('--ctime --raw'))
    expect(run('-r', '-H')).toEqual(excl('--human --raw'))
    expect(run('-r', '-d')).toEqual(excl('--show-delta --raw'))
    expect(run('-e', '-r')).toEqual(excl('--reltime --raw'))
    expect(run('-L', '-r')).toEqual(excl('--color --raw'))
    const control = '--clear --console-off --console-on --read-clear --console-level --raw'
    expect(run('-C', '-c')).toEqual(excl(control))
    expect(run('-c', '-r')).toEqual(excl(control))
    expect(run('-r', '-r', '-c', '-c')).toEqual(excl(control))
    // The same option twice is no conflict.
    expect(out('-r', '-r')).toBe(out('-r'))
  })

  it('-C clears without printing, -c prints then clears; other users may read (dmesg_restrict=0) but not clear', () => {
    expect(runDmesg(['-C'], LOG, BOOT, 0)).toEqual(ok('', true))
    expect(runDmesg(['-c', '-t'], LOG, BOOT, 0)).toEqual(ok(`${A}\n${B}\n${C}\n`, true))
    expect(runDmesg(['-t'], LOG, BOOT, 1000)).toEqual(ok(`${A}\n${B}\n${C}\n`))
    expect(runDmesg(['-J'], LOG, BOOT, 1000).stdout).toBe(out('-J'))
    expect(runDmesg(['-C'], LOG, BOOT, 1000)).toEqual(fail('dmesg: clear kernel buffer failed: Operation not permitted\n'))
    // -c reads /dev/kmsg, which anyone may, then fails to clear through syslog(2).
    expect(runDmesg(['-c', '-t'], LOG, BOOT, 1000)).toEqual({stdout: `${A}\n${B}\n${C}\n`, stderr: 'dmesg: clear kernel buffer failed: Operation not permitted\n', code: 1, clear: false})
  })

  it('clearing is asked for in every form getopt takes, and only then is the state locked', () => {
    for (const argv of [['-C'], ['-c'], ['--clea'], ['--read'], ['-tc'], ['--read-clear', '-t']]) expect([argv, mayClear(argv)]).toEqual([argv, true])
    for (const argv of [['-lcrit'], ['-t'], ['--time-format', 'ctime'], ['x', 'C']]) expect([argv, mayClear(argv)]).toEqual([argv, false])
    expect(run('--clea')).toEqual(ok('', true))
  })

  it("says util-linux's usage errors, help and version", () => {
    expect(run('-z')).toEqual(fail(`dmesg: invalid option -- 'z'\n${TRY}`))
    expect(run('--foo')).toEqual(fail(`dmesg: unrecognized option '--foo'\n${TRY}`))
    expect(run('x')).toEqual(fail(`dmesg: bad usage\n${TRY}`))
    expect(run('--clear=1')).toEqual(fail(`dmesg: option '--clear' doesn't allow an argument\n${TRY}`))
    expect(run('--time-fo')).toEqual(fail(`dmesg: option '--time-format' requires an argument\n${TRY}`))
    expect(run('--time-format', 'bogus')).toEqual(fail('dmesg: unknown time format: bogus\n'))
    expect(run('-V')).toEqual(ok(DMESG_VERSION))
    expect(run('--help')).toEqual(ok(DMESG_HELP))
    expect(DMESG_HELP.startsWith('\nUsage:\n dmesg [options]\n\nDisplay or control the kernel ring buffer.\n')).toBe(true)
    expect(DMESG_HELP).toContain(' -l, --level <list>          restrict output to defined levels\n')
    expect(DMESG_HELP).toContain(' -x, --decode                decode facility and level to readable string\n')
    expect(DMESG_HELP).toContain('\nSupported log levels (priorities):\n   emerg - system is unusable\n')
  })
})

describe('dmesg -w, -W', () => {
  const follow = (argv: string[], uid = 0, noFollow?: string) => {
    const d = runDmesg(argv, LOG.slice(0, 2), BOOT, uid, noFollow)
    return {...d, follow: d.follow !== undefined, more: d.follow?.print(LOG.slice(2)) ?? ''}
  }

  it('-w prints the records there are, then -W only those to come, in any format, -d and -H going on from the last', () => {
    expect(follow(['-w', '-t'])).toEqual({stdout: `${A}\n${B}\n`, stderr: '', code: 0, clear: false, follow: true, more: `${C}\n`})
    expect(follow(['--follow-new', '-t'])).toEqual({stdout: '', stderr: '', code: 0, clear: false, follow: true, more: `${C}\n`})
    // -W wins over -w in either order, as util-linux's seek to the end does.
    expect(follow(['-W', '-w']).stdout).toBe('')
    expect(follow(['-w', '-W']).stdout).toBe('')
    for (const f of [['-x'], ['-T'], ['-d'], ['-H'], ['-r'], ['-J'], ['-l', 'notice'], ['--time-format', 'iso']]) {
      const d = follow(['-w', ...f])
      // What a later dmesg prints, but -J's closing brackets: dmesg -w never gets there.
      expect([f, d.stdout + d.more]).toEqual([f, dmesgOutput(LOG, {...FORMAT, ...formatOf(f)}).replace(/}\n {3}]\n}\n$/, '')])
    }
    expect(follow(['-w', '-d', '--time-format', 'iso']).stderr).toBe('dmesg: --show-delta is ignored when used together with iso8601 time format\n')
  })

  it('with -C only clears (util-linux clears and ends); with -c follows and never clears, so a user gets no EPERM', () => {
    expect(follow(['-C', '-w'])).toEqual({stdout: '', stderr: '', code: 0, clear: true, follow: false, more: ''})
    expect(follow(['-W', '--clear'], 1000)).toEqual({stdout: '', stderr: 'dmesg: clear kernel buffer failed: Operation not permitted\n', code: 1, clear: false, follow: false, more: ''})
    expect(follow(['-c', '-w', '-t'], 1000)).toEqual({stdout: `${A}\n${B}\n`, stderr: '', code: 0, clear: false, follow: true, more: `${C}\n`})
    expect(follow(['-w', '-t'], 1000).stdout).toBe(`${A}\n${B}\n`)
  })

  it('-S (not emulated) and -w are exclusive; usage errors come first; where nothing can come, -w and -W fail in one line', () => {
    expect(follow(['-w', '-S'])).toMatchObject({stderr: 'dmesg: mutually exclusive arguments: --syslog --follow\n', code: 1, follow: false})
    expect(follow(['-w', '-z'], 0, 'no\n')).toMatchObject({stderr: `dmesg: invalid option -- 'z'\n${TRY}`, code: 1})
    expect(follow(['-w'], 0, 'no follow here\n')).toEqual({stdout: '', stderr: 'no follow here\n', code: 1, clear: false, follow: false, more: ''})
    expect(follow(['-C', '-w'], 0, 'no follow here\n')).toMatchObject({code: 0, clear: true})
  })

  it('tells the new records from a later read of the buffer: after records dropped, a clear, or nothing new', () => {
    const r = (n: number): LogLine => ({t: n * 1000, level: 6, facility: 0, msg: `r${n}`})
    const prev = [r(1), r(2), r(3)]
    expect(newRecords(prev, [r(1), r(2), r(3), r(4), r(5)])).toEqual([r(4), r(5)])
    expect(newRecords(prev, [r(2), r(3), r(4)])).toEqual([r(4)])
    expect(newRecords(prev, [r(3)])).toEqual([])
    expect(newRecords(prev, prev)).toEqual([])
    expect(newRecords(prev, [])).toEqual([])
    expect(newRecords(prev, [r(4)])).toEqual([r(4)])
    expect(newRecords([], [r(1)])).toEqual([r(1)])
    // The same text at another time, or at another level, is another record.
    expect(newRecords(prev, [{...r(3), t: 3001}])).toEqual([{...r(3), t: 3001}])
    expect(newRecords(prev, [r(3), {...r(3), level: 4}])).toEqual([{...r(3), level: 4}])
    // A full buffer: the oldest dropped as the newest come.
    const full = Array.from({length: 2000}, (_, i) => r(i))
    expect(newRecords(full, [...full.slice(3), r(2000), r(2001), r(2002)])).toEqual([r(2000), r(2001), r(2002)])
  })
})

const FORMAT = {time: 'time', raw: false, decode: false, json: false, noescape: false, forcePrefix: false, bootTime: BOOT} as const
/** The format options a few dmesg flags ask for, as runDmesg sets them. */
function formatOf(f: string[]): Partial<Parameters<typeof dmesgOutput>[1]> {
  switch (f[0]) {
    case '-x':
      return {decode: true}
    case '-T':
      return {time: 'ctime'}
    case '-d':
      return {time: 'time-delta'}
    case '-H':
      return {time: 'reltime'}
    case '-r':
      return {raw: true}
    case '-J':
      return {json: true, noescape: true}
    case '-l':
      return {levels: new Set([KERN_NOTICE])}
    default:
      return {time: 'iso'}
  }
}

describe('the records in the state file', () => {
  it('are written <facility*8+level>MICROS TEXT and read back the same', () => {
    const w = readWorld(YAML.parse(twoGuests()))
    w.hosts[0].runtime.dmesg = LOG
    const data = worldToData(w) as {hosts: Array<{runtime: {dmesg: string[]}}>}
    expect(data.hosts[0].runtime.dmesg).toEqual([`<6>2000 ${A}`, `<4>6691468810 ${B}`, `<29>6700000000 ${C}`])
    expect(readWorld(data).hosts[0].runtime.dmesg).toEqual(LOG)
  })

  it('without a priority (written before aplab kept levels) read as the level their text is logged at', () => {
    const texts = [
      'cio: 0.0.xyz is not a valid device for the cio_ignore kernel parameter',
      'cio: 0.0.0009 to 0.0.0001 is not a valid range for cio_ignore',
      'ap: 300 is not a valid cryptographic domain',
      'ap: The hardware system does not support AP instructions',
      'vfio_ap matrix: MDEV: Registered',
      'vfio_ap matrix: MDEV: Unregistering',
      `vfio_ap_mdev ${U1}: Relaying device request to user (#0)`,
      SHARE,
      `vfio_ap_mdev ${U1}: Can not reserve queue 05.0004 for host driver: in use by mdev`,
      MODULE,
      'written by hand',
    ]
    expect(texts.map((t) => originOf(t))).toEqual([4, 4, 4, 4, 6, 6, 5, 4, 4, 5, 6].map((level, i) => ({level, facility: i === 9 ? LOG_DAEMON : LOG_KERN})))
    const text = twoGuests().replace('        - "0 vfio_ap matrix: MDEV: Registered"\n', texts.map((t, i) => `        - ${JSON.stringify(`${i} ${t}`)}\n`).join(''))
    const log = readWorld(YAML.parse(text)).hosts[0].runtime.dmesg
    expect(log.map((l) => [l.t, l.facility * 8 + l.level])).toEqual(texts.map((t, i) => [i, originOf(t).facility * 8 + originOf(t).level]))
  })

  it('the drop-in reads and clears the host of $APLAB_STATE', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    expect(await s.run('dmesg', ['-t'])).toEqual({stdout: 'vfio_ap matrix: MDEV: Registered\n', stderr: '', exitCode: 0})
    expect((await s.run('aplab', ['dmesg', '-r'])).stdout).toMatch(/^<6>\[ +\d+\.\d{6}\] vfio_ap matrix: MDEV: Registered\n$/)
    expect(readFileSync(s.state, 'utf8')).toMatch(/\n {6}dmesg:\n {8}- "<6>\d+ vfio_ap matrix: MDEV: Registered"\n/)
    expect(await s.run('dmesg', ['-C'])).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect((await s.run('dmesg', [])).stdout).toBe('')
  })

  it('a state without levels is still read; a hand-edited bad priority is refused, naming the file and the field', async () => {
    const s = sandbox()
    writeFileSync(s.state, twoGuests().replace('"0 vfio_ap matrix: MDEV: Registered"', `"0 vfio_ap matrix: MDEV: Registered"\n        - "5 ${MODULE}"`))
    expect(await s.run('dmesg', ['-x'])).toEqual({stdout: `kern  :info  : [    0.000000] ${A}\ndaemon:notice: [    0.000005] ${MODULE}\n`, stderr: '', exitCode: 0})
    for (const [bad, what] of [
      ['<8x>0 hand', "'<8x>' is not a priority: expected <facility * 8 + level>, 0 to 191 (<4> a kernel warning, <6> kernel info)"],
      ['<192>0 hand', "'<192>' is not a priority: expected <facility * 8 + level>, 0 to 191 (<4> a kernel warning, <6> kernel info)"],
      ['<6> 0 hand', 'expected <priority>, microseconds since boot, a blank and the message'],
      ['<6>', 'expected <priority>, microseconds since boot, a blank and the message'],
    ]) {
      const text = twoGuests().replace('"0 vfio_ap matrix: MDEV: Registered"', `"0 ok"\n        - "${bad}"`)
      writeFileSync(s.state, text)
      expect(await s.run('dmesg', [])).toEqual({stdout: '', stderr: `dmesg: ${s.state}: hosts[0].runtime.dmesg[1]: ${what}\n`, exitCode: 1})
      expect(readFileSync(s.state, 'utf8')).toBe(text)
    }
  })
})
