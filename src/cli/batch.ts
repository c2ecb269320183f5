// `aplab batch [FILE|-]`: many aplab and drop-in command lines in one
// process, under one lock of the state, with the state held in memory and
// written once at the end (or after every good line with --checkpoint).
// Each line prints what the separate call would print and has its status;
// the first failing line stops the batch unless --keep-going, and its own
// changes are undone (with --atomic nothing is written at all). On a
// terminal, a long batch draws a progress bar on standard error.

import {UsageError} from '../core/errors.js'
import {beforeChildOutput, errorMessage, processEnv} from './env.js'

export interface BatchFlags {
  keepGoing: boolean
  atomic: boolean
  checkpoint: boolean
  /** A progress bar on standard error when it is a terminal (--no-progress: never). */
  progress: boolean
}

type Word = string | {op: string; pattern?: string} | {comment: string}

/** Characters that mean nothing to the shell, and the blanks between words. */
const PLAIN_LINE = /^[A-Za-z0-9_./:=,@+%\- \t]*$/

/**
 * One line as the shell would split it: quotes, backslashes, `#` comments,
 * $NAME and ${NAME} from the environment (shell-quote). A glob stays the
 * word it is (no file is matched); other shell operators are refused.
 */
export async function splitLine(line: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  // A line of plain words (no quote, $, #, glob or operator) splits at its blanks.
  if (PLAIN_LINE.test(line)) return line.split(/[ \t]+/).filter((w) => w !== '')
  const {parse} = await import('shell-quote')
  const words = parse(line, (name: string) => env[name] ?? '') as Word[]
  const out: string[] = []
  for (const w of words) {
    if (typeof w === 'string') out.push(w)
    else if ('comment' in w) break
    else if (w.op === 'glob' && w.pattern !== undefined) out.push(w.pattern)
    else throw new UsageError(`the shell operator '${w.op}' is not supported in a batch (one command per line)`)
  }
  return out
}

async function readScript(file: string | undefined): Promise<string> {
  const fs = await import('node:fs')
  if (file === undefined || file === '-') return fs.readFileSync(0, 'utf8')
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (e) {
    const {code} = e as NodeJS.ErrnoException
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'No such file or directory' : code === 'EISDIR' ? 'Is a directory' : code === 'EACCES' ? 'Permission denied' : String(code)}`)
  }
}

/** Run one command line as its own call would run; its exit status. */
export async function runLine(words: string[], dropIns: readonly string[], aplabMain: (argv: string[]) => Promise<void>): Promise<number> {
  const saved = {state: process.env.APLAB_STATE, host: process.env.APLAB_HOST}
  process.exitCode = 0
  try {
    const [cmd, ...rest] = words
    if (cmd === 'aplab') {
      if (rest.some((w) => w === 'batch')) {
        const i = rest.findIndex((w) => !/^--(state|host)(=.*)?$/.test(w))
        if (rest[i] === 'batch') throw new UsageError('a batch cannot run another batch')
      }
      await aplabMain(rest)
    } else if (dropIns.includes(cmd)) await aplabMain(words)
    else {
      process.stderr.write(`aplab batch: ${cmd}: command not found\n`)
      return 127
    }
    return Number(process.exitCode ?? 0)
  } catch (e) {
    const {message, exitCode} = errorMessage(e)
    process.stderr.write(`aplab: ${message}\n`)
    return exitCode
  } finally {
    process.exitCode = 0
    for (const [k, v] of [['APLAB_STATE', saved.state], ['APLAB_HOST', saved.host]] as const)
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
  }
}

/** The whole batch; its exit status (the first failing line's, else 0). */
export async function runBatch(
  file: string | undefined,
  flags: BatchFlags,
  dropIns: readonly string[],
  aplabMain: (argv: string[]) => Promise<void>,
  barTimes?: {delay: number; interval: number},
): Promise<number> {
  const text = await readScript(file)
  const env = processEnv()
  const {withSession, sessionStartLine, sessionUndoLine} = await import('../state/store.js')
  return withSession(env.state, async (s) => {
    let status = 0
    let failed = 0
    const lines = text.split('\n')
    if (lines[lines.length - 1] === '') lines.pop()
    const bar = await progressBar(lines.length, flags.progress, barTimes)
    try {
      for (let n = 0; n < lines.length; n++, bar?.update(n, failed)) {
        let words: string[]
        try {
          words = await splitLine(lines[n])
        } catch (e) {
          process.stderr.write(`aplab batch: line ${n + 1}: ${errorMessage(e).message}\n`)
          status ||= 2
          failed++
          if (!flags.keepGoing) break
          continue
        }
        if (words.length === 0) continue
        sessionStartLine(s)
        const code = await runLine(words, dropIns, aplabMain)
        if (code === 0) {
          if (flags.checkpoint) await s.save()
          continue
        }
        status ||= code
        failed++
        sessionUndoLine(s)
        if (!flags.keepGoing) break
      }
    } finally {
      bar?.end()
    }
    if (status !== 0 && flags.atomic) return status
    await s.save()
    return status
  })
}

/**
 * The progress bar of a batch of `total` lines, when standard error is a
 * terminal (and the bar is not turned off); it is erased before whatever
 * the lines print (src/cli/progress.ts). `times` (the tests') replace its
 * delay and interval.
 */
async function progressBar(total: number, on: boolean, times?: {delay: number; interval: number}): Promise<{update(done: number, failed: number): void; end(): void} | undefined> {
  if (!on || total < 2 || !process.stderr.isTTY) return undefined
  const {ProgressBar, eraseBeforeOutput, wantsBar} = await import('./progress.js')
  if (!wantsBar(process.stderr, false)) return undefined
  const bar = new ProgressBar(process.stderr, {total, ...times})
  const unhook = eraseBeforeOutput(bar, process.stdout.isTTY ? [process.stdout, process.stderr] : [process.stderr])
  // A line's child process (aplab demo's steps, aplab shell) writes to the terminal itself.
  const unhookChildren = beforeChildOutput(() => bar.erase())
  return {
    update: (done, failed) => bar.update(done, failed),
    end: () => {
      bar.erase()
      unhook()
      unhookChildren()
    },
  }
}

/** `aplab batch [--keep-going] [--atomic] [--checkpoint] [--no-progress] [FILE|-]` without oclif; null when oclif should parse it (help, a bad option). */
export function parseBatchArgs(argv: string[]): {file?: string; flags: BatchFlags} | null {
  const flags: BatchFlags = {keepGoing: false, atomic: false, checkpoint: false, progress: true}
  const operands: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--keep-going' || a === '-k') flags.keepGoing = true
    else if (a === '--atomic') flags.atomic = true
    else if (a === '--checkpoint') flags.checkpoint = true
    else if (a === '--no-progress') flags.progress = false
    else if (a === '--') operands.push(...argv.slice(i + 1)), (i = argv.length)
    else if (a.startsWith('-') && a !== '-') return null
    else operands.push(a)
  }
  if (operands.length > 1) return null
  if (flags.atomic && flags.checkpoint) return null
  return {file: operands[0], flags}
}

/** The entry point, from the dispatcher or the oclif command. */
export async function batchMain(file: string | undefined, flags: BatchFlags): Promise<void> {
  const {DROP_INS, aplabMain} = await import('./main.js')
  let code: number
  try {
    code = await runBatch(file, flags, DROP_INS, aplabMain)
  } catch (e) {
    const {message, exitCode} = errorMessage(e)
    process.stderr.write(`aplab: ${message}\n`)
    code = exitCode
  }
  process.exitCode = code
}
