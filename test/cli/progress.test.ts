// The progress bar of aplab batch: drawn on a terminal only, after its
// delay, at most once per interval, within the terminal's width, erased
// before anything a line prints and at the end, so that the lines' output
// is the same bytes once the bar's are taken out. The renderer with a fake
// clock and terminal; the batch in-process with standard error made a
// terminal; the binary on a pseudo-terminal (python3's pty) when there is one.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {ERASE, ProgressBar, wantsBar} from '../../src/cli/progress.js'
import {NO_SHELL} from '../live/helpers.js'

const ROOT = join(import.meta.dirname, '..', '..')
const made: string[] = []
afterAll(() => made.forEach((d) => rmSync(d, {recursive: true, force: true})))
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'aplab-progress-'))
  made.push(d)
  return d
}

/** A terminal that keeps what is written to it. */
function terminal(columns?: number) {
  const out: string[] = []
  return {isTTY: true as const, columns, out, write: (t: string) => void out.push(t)}
}

/** What is left of a terminal's bytes once the bar's are taken out. */
const withoutBar = (text: string): string => text.replace(/aplab batch: (\[[# ]*\] )?\d+\/\d+ lines(, \d+ failed)?/g, '').replaceAll(ERASE, '')

describe('the progress bar', () => {
  it('waits for its delay, draws at most once per interval, and erases itself once', () => {
    let t = 0
    const tty = terminal(60)
    const bar = new ProgressBar(tty, {total: 200, delay: 1000, interval: 250, now: () => t})
    t = 999
    bar.update(10)
    bar.erase()
    expect(tty.out).toEqual([])
    t = 1000
    bar.update(20)
    t = 1100
    bar.update(30)
    t = 1250
    bar.update(100, 2)
    bar.erase()
    bar.erase()
    expect(tty.out).toEqual([
      'aplab batch: [#                 ] 20/200 lines',
      ERASE + 'aplab batch: [#########         ] 100/200 lines, 2 failed',
      ERASE,
    ])
    expect(tty.out.every((l) => l.replace(ERASE, '').length <= 59)).toBe(true)
  })

  it('fits the terminal: 80 columns when it says none, the count alone when it is narrow', () => {
    const at = (columns: number | undefined, done: number) => new ProgressBar(terminal(columns), {total: 2000}).text(done)
    expect(at(undefined, 2000)).toBe(`aplab batch: [${'#'.repeat(35)}] 2000/2000 lines`)
    expect(at(undefined, 0)).toBe(`aplab batch: [${' '.repeat(35)}] 0/2000 lines`)
    expect(at(200, 1)).toBe(`aplab batch: [${' '.repeat(40)}] 1/2000 lines`)
    expect(at(60, 1000)).toBe('aplab batch: [#######        ] 1000/2000 lines')
    expect(at(50, 1000)).toBe('aplab batch: 1000/2000 lines')
    expect(at(12, 1000)).toBe('aplab batch')
  })

  it('is drawn only on a terminal that can erase a line, unless turned off', () => {
    expect(wantsBar({isTTY: true, write: () => true}, false, {TERM: 'xterm'})).toBe(true)
    expect(wantsBar({isTTY: true, write: () => true}, false, {})).toBe(true)
    expect(wantsBar({isTTY: false, write: () => true}, false, {})).toBe(false)
    expect(wantsBar({write: () => true}, false, {})).toBe(false)
    expect(wantsBar({isTTY: true, write: () => true}, true, {})).toBe(false)
    expect(wantsBar({isTTY: true, write: () => true}, false, {TERM: 'dumb'})).toBe(false)
  })
})

describe('aplab batch on a terminal', () => {
  const U = (i: number) => `c0ffee00-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
  const script = ['aplab modprobe vfio_ap', ...Array.from({length: 6}, (_, i) => `aplab mdev create -u ${U(i)}`), 'aplab mdev remove ' + U(99), 'lszcrypt -v 5'].join('\n') + '\n'

  /** The batch in this process, standard output and error terminals (or not), what each received. */
  async function inProcess(tty: boolean, progress = true): Promise<{out: string; err: string; status: number}> {
    const dir = tempDir()
    writeFileSync(join(dir, 'script'), script)
    const [{runBatch}, {DROP_INS, aplabMain}] = await Promise.all([import('../../src/cli/batch.js'), import('../../src/cli/main.js')])
    const saved = {env: process.env.APLAB_STATE, out: process.stdout.write, err: process.stderr.write, outTTY: process.stdout.isTTY, errTTY: process.stderr.isTTY}
    const got = {out: '', err: ''}
    process.env.APLAB_STATE = join(dir, 'state.yaml')
    process.stdout.write = ((t: string) => ((got.out += t), true)) as typeof process.stdout.write
    process.stderr.write = ((t: string) => ((got.err += t), true)) as typeof process.stderr.write
    process.stdout.isTTY = tty
    process.stderr.isTTY = tty
    try {
      const status = await runBatch(join(dir, 'script'), {keepGoing: true, atomic: false, checkpoint: false, progress}, DROP_INS, aplabMain, {delay: 0, interval: 0})
      return {...got, status}
    } finally {
      process.stdout.write = saved.out
      process.stderr.write = saved.err
      process.stdout.isTTY = saved.outTTY
      process.stderr.isTTY = saved.errTTY
      if (saved.env === undefined) delete process.env.APLAB_STATE
      else process.env.APLAB_STATE = saved.env
    }
  }

  it('draws the bar between lines, erases it before their output and at the end, and changes no byte of theirs', async () => {
    const plain = await inProcess(false)
    expect(plain.err).not.toContain('aplab batch: [')
    expect(plain.err).not.toContain(ERASE)
    const tty = await inProcess(true)
    expect(tty.status).toBe(plain.status)
    expect(tty.status).not.toBe(0)
    // Standard output is the same terminal: the bar is erased before each line's output there too.
    expect(withoutBar(tty.out)).toBe(plain.out)
    expect(withoutBar(tty.err)).toBe(plain.err)
    expect(tty.err).toContain('aplab batch: [')
    expect(tty.err).toContain(', 1 failed')
    expect(tty.err.endsWith(ERASE)).toBe(true)
    // Every drawing is erased before anything else reaches the screen.
    for (const [i, part] of tty.err.split(/(?=aplab batch: \[)/).entries()) if (i > 0) expect(part).toMatch(/^aplab batch: \[[# ]*\] \d+\/9 lines(, 1 failed)?\r\x1b\[K/)
    const off = await inProcess(true, false)
    expect(off).toEqual(plain)
  })

  const python = spawnSync('python3', ['-c', 'import pty, fcntl, termios'], {stdio: 'ignore'}).status === 0
  /** The batch binary on a pseudo-terminal of 72 columns (python3's pty): all it wrote there. */
  function onPty(file: string, state: string, args: string[] = []): string {
    const pty = [
      'import os, pty, sys, struct, fcntl, termios',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 72, 0, 0))',
      '    os.execvp(sys.argv[1], sys.argv[1:])',
      'out = b""',
      'while True:',
      '    try: d = os.read(fd, 65536)',
      '    except OSError: break',
      '    if not d: break',
      '    out += d',
      'os.waitpid(pid, 0)',
      'sys.stdout.buffer.write(out)',
    ].join('\n')
    const e = {...process.env, APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: '', TERM: 'xterm', NO_COLOR: '1'}
    return spawnSync('python3', ['-c', pty, process.execPath, join(ROOT, 'bin', 'aplab.js'), 'batch', '--keep-going', ...args, file], {env: e, encoding: 'latin1', maxBuffer: 1 << 26}).stdout
  }
  /** Every drawing of the bar is erased before any other byte reaches the terminal. */
  const erasedFirst = (screen: string): void => {
    for (const [i, part] of screen.split(/(?=aplab batch: \[)/).entries()) if (i > 0) expect(part).toMatch(/^aplab batch: \[[# ]*\] \d+\/\d+ lines(, \d+ failed)?\r\x1b\[K/)
  }

  it.skipIf(!python)('on a pseudo-terminal prints the same bytes once the bar is taken out, and none of the bar with --no-progress', () => {
    const dir = tempDir()
    const file = join(dir, 'script')
    // About a second of quick lines, so that the bar is drawn on most machines; the checks hold whether it is or not.
    writeFileSync(file, script + 'aplab sysfs cat /sys/bus/ap/apmask\n'.repeat(10000))
    const run = (args: string[]) => onPty(file, join(dir, `${args.length}.yaml`), args)
    const onTerminal = run([])
    const quiet = run(['--no-progress'])
    expect(quiet).not.toContain(ERASE)
    expect(quiet).not.toContain('aplab batch: [')
    expect(withoutBar(onTerminal)).toBe(quiet)
    expect(onTerminal.endsWith('\r\n')).toBe(true)
    erasedFirst(onTerminal)
  })

  it.skipIf(!python || NO_SHELL !== null)(`erases the bar before a line's child process writes to the terminal${NO_SHELL ? ` (skipped: ${NO_SHELL})` : ''}`, () => {
    const dir = tempDir()
    const file = join(dir, 'script')
    // The bar is due after the slow line (its delay and interval past), and the
    // next line's first output is its child's: aplab shell runs the command.
    writeFileSync(file, script + 'aplab sysfs cat /sys/bus/ap/apmask\n'.repeat(3000) + 'aplab shell -- sleep 1\n' + "aplab shell -- printf 'CHILD\\n'\n")
    const screen = onPty(file, join(dir, 'state.yaml'))
    expect(screen).toContain('aplab batch: [')
    expect(screen).toContain('CHILD')
    erasedFirst(screen)
  })
})
