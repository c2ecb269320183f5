// The base of every oclif command: the global flags, and one error path that
// prints `aplab: message` with the right exit code and never a stack trace.

import {Command, Errors, Flags} from '@oclif/core'

import {ToolExit} from '../core/errors.js'
import {errorMessage, processEnv, type Env} from './env.js'

export abstract class AplabCommand extends Command {
  static override baseFlags = {
    state: Flags.string({description: 'state file (default: $APLAB_STATE, else ~/.local/state/aplab/state.yaml)', helpGroup: 'GLOBAL'}),
    host: Flags.string({description: 'host to act on (default: $APLAB_HOST, else the current host)', helpGroup: 'GLOBAL'}),
  }

  protected env(flags: {state?: string; host?: string}): Env {
    return processEnv(flags.state, flags.host)
  }

  /** Run an operation whose refusals are a real tool's text (QEMU, modprobe): printed as they are. */
  protected async tool(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn()
    } catch (e) {
      if (!(e instanceof ToolExit)) throw e
      process.stderr.write(e.message)
      process.exitCode = e.exitCode
    }
  }

  protected override async catch(err: Error & {oclif?: {exit?: number}; skipOclifErrorHandling?: boolean}): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    const parseFailed = !this.parsed
    const {message, exitCode} = parseFailed ? {message: parseMessage(err.message, this.argv), exitCode: 1} : errorMessage(err)
    process.stderr.write(`${await errorPrefix()} ${message}\n`)
    if (parseFailed) process.stderr.write(`Try 'aplab ${this.id?.replace(/:/g, ' ')} --help' for more information.\n`)
    err.oclif = {...err.oclif, exit: exitCode}
    err.skipOclifErrorHandling = true
    throw err
  }
}

/**
 * oclif's parse errors span lines (`Missing 1 required arg:\nuuid  the mdev\n...`);
 * say them in one line, with the names of what is missing. oclif's note on
 * flags that take several values stays (on its own line) when the command
 * line used such a flag, which is when an argument may have gone to it.
 */
export function parseMessage(text: string, argv: readonly string[] = []): string {
  const [main, note = ''] = text.split(/\n\s*\nNote: /)
  const lines = main
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with/.test(l) && !/^The following errors? occurred:$/.test(l))
  const missing = /^(Missing \d+ required args?):$/.exec(lines[0] ?? '')
  let message = missing
    ? `${missing[1]}: ${lines
        .slice(1)
        .map((l) => l.split(/\s{2,}/)[0])
        .join(', ')}`
    : lines.join(' ').replace(/\bMissing required flag ([\w-]+)/g, 'Missing required flag --$1')
  const noteText = note.replace(/\nSee more help with --help\s*$/, '').replace(/\n/g, ' ')
  const noteFlags = noteText.match(/--[\w-]+/g) ?? []
  if (noteText && argv.some((a) => noteFlags.some((f) => a === f || a.startsWith(f + '=')))) message += `\nNote: ${noteText}`
  return message
}

/** `aplab:`, in red when a person reads stderr on a terminal. */
async function errorPrefix(): Promise<string> {
  if (!process.stderr.isTTY || process.env.NO_COLOR) return 'aplab:'
  const {default: chalk} = await import('chalk')
  return chalk.red('aplab:')
}
