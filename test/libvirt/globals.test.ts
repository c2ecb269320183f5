// virsh's global options (virsh.c virshParseArgv, getopt_long "+:c:d:e:hk:K:l:qrtvV"),
// --timing (vsh.c vshCommandRun) and command strings (vshCommandStringParse).

import {describe, expect, it} from 'vitest'

import {setClock} from '../../src/core/clock.js'
import {runVirsh} from '../../src/libvirt/run.js'
import {Lab, domainXml} from './lab.js'

const TIME = /\n\(Time: \d+\.\d{3} ms\)\n\n/g
/** stdout with the elapsed times (the only bytes that vary) replaced. */
const timed = (s: string): string => s.replace(TIME, '\n(Time: N ms)\n\n')

async function defined(): Promise<Lab> {
  const l = await Lab.create()
  l.files['guest1.xml'] = domainXml({hostdevs: []})
  await l.ok('define', 'guest1.xml')
  return l
}

describe('virsh --timing', () => {
  it('prints the time a command took instead of the blank line after it', async () => {
    const l = await defined()
    const r = await l.virsh('-t', 'list', '--all')
    expect(r.stdout).toMatch(/^ Id   Name     State\n-{25}\n -    guest1   shut off\n\n\(Time: \d+\.\d{3} ms\)\n\n$/)
    expect([r.stderr, r.code]).toEqual(['', 0])
    expect(timed((await l.virsh('--timing', 'start', 'guest1')).stdout)).toBe("Domain 'guest1' started\n\n(Time: N ms)\n\n")
  })

  it('is printed with --quiet too (vshPrint), and after a failure', async () => {
    const l = await defined()
    expect(timed(await l.ok('-q', '-t', 'start', 'guest1'))).toBe('\n(Time: N ms)\n\n')
    const r = await l.virsh('-qt', 'start', 'guest1')
    expect({...r, stdout: timed(r.stdout)}).toEqual({stdout: '\n(Time: N ms)\n\n', stderr: 'error: Domain is already active\n', code: 1})
    // a command that does not parse never runs: no time
    expect(await l.virsh('-t', 'start')).toEqual({stdout: '', stderr: "error: command 'start' requires <domain> option\n", code: 1})
  })

  it('times every command of a command string; stdout and stderr come in the order written', async () => {
    const l = await defined()
    const r = await runVirsh(['-t', 'domstate nosuch; start guest1; domstate guest1 --reason'], {
      onWorld: async (_mode, fn) => {
        const w = await l.world()
        const out = await fn(w)
        await l.save(w)
        return out
      },
      readFile: () => '',
      newUuid: () => '',
    })
    expect(r.code).toBe(0)
    expect(r.chunks.map(([fd, t]) => [fd, timed(t)])).toEqual([
      [2, "error: failed to get domain 'nosuch'\n"],
      [2, "error: Domain not found: no domain with matching name 'nosuch'\n"],
      [1, '\n(Time: N ms)\n\n'],
      [1, "Domain 'guest1' started\n"],
      [1, '\n(Time: N ms)\n\n'],
      [1, 'running (booted)\n'],
      [1, '\n(Time: N ms)\n\n'],
    ])
  })
})

describe('command strings', () => {
  it('run one command after the other; the status is the last one\'s', async () => {
    const l = await defined()
    expect(await l.virsh('start guest1; domstate guest1')).toEqual({stdout: "Domain 'guest1' started\n\nrunning\n\n", stderr: '', code: 0})
    expect(await l.virsh('domstate guest1\nstart guest1')).toEqual({stdout: 'running\n\n\n', stderr: 'error: Domain is already active\n', code: 1})
    expect(await l.virsh('start guest1;domstate guest1')).toMatchObject({stdout: '\nrunning\n\n', code: 0})
  })

  it('are split as virsh splits them: quotes, backslashes, comments', async () => {
    const l = await defined()
    expect(await l.ok(`domstate 'gu'"est1" --reason # a comment; start guest1`)).toBe('shut off (unknown)\n\n')
    expect(await l.ok('  # only a comment\ndomstate gu\\est1')).toBe('shut off\n\n')
    expect(await l.virsh('domstate "guest1')).toEqual({stdout: '', stderr: 'error: missing "\n', code: 1})
    expect(await l.virsh('domstate guest1\\')).toEqual({stdout: '', stderr: 'error: dangling \\\n', code: 1})
  })

  it('are parsed whole before the first command runs', async () => {
    const l = await defined()
    const before = l.state
    expect(await l.virsh('start guest1; frobnicate')).toEqual({stdout: '', stderr: "error: unknown command: 'frobnicate'\n", code: 1})
    expect(await l.virsh('start guest1; start')).toEqual({stdout: '', stderr: "error: command 'start' requires <domain> option\n", code: 1})
    expect(l.state).toBe(before)
  })

  it('an empty string fails silently, one without commands does nothing', async () => {
    const l = await defined()
    expect(await l.virsh('')).toEqual({stdout: '', stderr: '', code: 1})
    expect(await l.virsh(' ; ')).toEqual({stdout: '', stderr: '', code: 0})
  })

  it('several words are one command, whatever they hold', async () => {
    const l = await defined()
    expect(await l.virsh('domstate', 'guest1;', 'list')).toEqual({stdout: '', stderr: "error: unexpected data 'list'\n", code: 1})
  })
})

describe('global options', () => {
  const bad = async (argv: string[], stderr: string): Promise<void> => {
    const l = await defined()
    const before = l.state
    expect(await l.virsh(...argv)).toEqual({stdout: '', stderr, code: 1})
    expect(l.state).toBe(before)
  }

  it('accepts the options aplab has nothing to change for, with libvirt\'s checks of their values', async () => {
    const l = await defined()
    for (const g of [['-d', '4'], ['--debug=0'], ['-e', '^a'], ['--escape', '~'], ['-e', '^['], ['-k', '0'], ['-k', '0x10'], ['--keepalive-interval', ' 5'], ['-K', '3'], ['--keepalive-count=010']])
      expect(await l.ok(...g, 'domstate', 'guest1')).toBe('shut off\n\n')
    await bad(['-k', '-1', 'list'], 'error: option -k requires a positive integer argument\n')
    await bad(['--keepalive-interval=-1', 'list'], 'error: option --keepalive-interval requires a positive integer argument\n')
    await bad(['-k', '5s', 'list'], 'error: Invalid value for option -k\n')
    await bad(['--keepalive-count', '', 'list'], 'error: Invalid value for option --keepalive-count\n')
    await bad(['-K', '99999999999', 'list'], 'error: Invalid value for option -K\n')
    await bad(['-d', 'x', 'list'], 'error: option -d takes a numeric argument\n')
    await bad(['--debug', '0x1', 'list'], 'error: option --debug takes a numeric argument\n')
    await bad(['-e', '^1', 'list'], "error: Invalid string '^1' for escape sequence\n")
    await bad(['-e', '^', 'list'], "error: Invalid string '^' for escape sequence\n")
    await bad(['--escape=ab', 'list'], "error: Invalid string 'ab' for escape sequence\n")
  })

  it('a debug level out of range is ignored with an error, and the command runs', async () => {
    const l = await defined()
    expect(await l.virsh('-d', '9', 'domstate', 'guest1')).toEqual({stdout: 'shut off\n\n', stderr: 'error: ignoring debug level 9 out of range [0-4]\n', code: 0})
    expect(await l.virsh('--debug=-1', 'domstate', 'guest1')).toEqual({stdout: 'shut off\n\n', stderr: 'error: ignoring debug level -1 out of range [0-4]\n', code: 0})
  })

  it('getopt_long: clusters, abbreviations, and its failures in virsh\'s words', async () => {
    const l = await defined()
    expect(await l.ok('-rq', 'domstate', 'guest1')).toBe('shut off\n')
    expect(await l.ok('-cqemu:///system', 'domstate', 'guest1')).toBe('shut off\n\n')
    expect(await l.ok('--quie', '--conn=qemu:///system', 'domstate', 'guest1')).toBe('shut off\n')
    expect(await l.ok('--', 'domstate', 'guest1')).toBe('shut off\n\n')
    // options end at the command: its own options are its own
    expect(await l.virsh('domstate', '-q', 'guest1')).toMatchObject({stderr: "error: unexpected data 'guest1'\n", code: 1})
    await bad(['-c'], "error: option '-c'/'--connect' requires an argument\n")
    await bad(['--connect'], "error: option '-c'/'--connect' requires an argument\n")
    await bad(['-qK'], "error: option '-K'/'--keepalive-count' requires an argument\n")
    await bad(['--log'], "error: option '-l'/'--log' requires an argument\n")
    await bad(['--frobnicate', 'list'], "error: unsupported option '--frobnicate'. See --help.\n")
    await bad(['--keep=5', 'list'], "error: unsupported option '--keep=5'. See --help.\n")
    await bad(['-x', 'list'], "error: unsupported option '-x'. See --help.\n")
    await bad(['-qx', 'list'], "error: unsupported option '-x'. See --help.\n")
    await bad(['--quiet=yes', 'list'], "error: unsupported option '-q'. See --help.\n")
    await bad(['--timing=1', 'list'], "error: unsupported option '-t'. See --help.\n")
  })

  it('-v, --version[=TYPE], -V and -h end virsh at once', async () => {
    const l = await defined()
    expect(await l.virsh('-v', '--frob')).toEqual({stdout: '11.6.0\n', stderr: '', code: 0})
    expect(await l.ok('--version=short')).toBe('11.6.0\n')
    expect(await l.ok('--version=other')).toBe('11.6.0\n')
    expect(await l.ok('--version=long')).toBe('Virsh command line tool of libvirt 11.6.0\n')
    expect(await l.ok('-V')).toBe('Virsh command line tool of libvirt 11.6.0\n')
    expect(await l.ok('-h', 'list')).toMatch(/^\n {20}virsh \[options\]\.\.\. \[<command_string>\]\n[^]*    -t \| --timing           print timing information\n/)
    expect(await l.virsh('-k', 'x', '-h')).toEqual({stdout: '', stderr: 'error: Invalid value for option -k\n', code: 1})
  })

  it('-l FILE logs every error line with its time and the process id', async () => {
    const l = await defined()
    // virsh's local time
    setClock(() => new Date(2026, 11, 7, 9, 8, 7).getTime())
    l.files['old.log'] = 'kept\n'
    expect(await l.virsh('-d', '7', '--log', 'old.log', '-d', '8', 'domstate nosuch; domstate guest1')).toEqual({
      stdout: '\nshut off\n\n',
      stderr: "error: ignoring debug level 7 out of range [0-4]\nerror: ignoring debug level 8 out of range [0-4]\nerror: failed to get domain 'nosuch'\nerror: Domain not found: no domain with matching name 'nosuch'\n",
      code: 0,
    })
    const line = (m: string): string => `[2026.12.07 09:08:07 virsh 4242] ERROR ${m}\n`
    expect(l.files['old.log']).toBe('kept\n' + line('ignoring debug level 8 out of range [0-4]') + line("failed to get domain 'nosuch'") + line("Domain not found: no domain with matching name 'nosuch'"))
    expect(await l.ok('-l', 'new.log', 'domstate', 'guest1')).toBe('shut off\n\n')
    expect(l.files['new.log']).toBe('')
    await bad(['-l', '/nonexistent/v.log', 'list'], 'error: failed to open the log file. check the log file path\n')
  })
})
