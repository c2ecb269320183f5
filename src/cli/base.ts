// The base of every oclif command: the global flags, and one error path that
// prints `aplab: message` with the right exit code and never a stack trace.
//
// The commands do not extend oclif's Command: loading @oclif/core (its
// configuration, help and parser) cost a call more than the command itself.
// BaseCommand has what oclif asks of a command class (the static run that
// Config.runCommand calls, the statics its manifest and help read) and what
// the commands use (parse, argv). A plain command line is parsed by
// fastParse; any other goes to oclif's own parser, loaded then. The
// dispatcher (src/cli/main.ts) runs a command through oclif's Config only for
// help and what is not plainly a command (--version is answered without it).

import type {Interfaces} from '@oclif/core'

import {ToolExit} from '../core/errors.js'
import {errorMessage, processEnv, type Env} from './env.js'
import {Flags} from './flags.js'
import {fastParse, type FastInput} from './fastparse.js'

// oclif's FlagOutput and ArgOutput (lib/interfaces/parser.d.ts), which it does not export.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FlagOutput = {[name: string]: any}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ArgOutput = {[name: string]: any}

/** An error oclif throws to end a command with a status (Errors.ExitError), told by its code. */
const isExit = (e: unknown): boolean => (e as {code?: unknown})?.code === 'EEXIT'

export abstract class BaseCommand {
  // The statics oclif's Command has (lib/command.js), read by its manifest and help.
  static aliases: string[] = []
  static args: Interfaces.ArgInput = {}
  static baseFlags: Interfaces.FlagInput
  static enableJsonFlag = false
  static hasDynamicHelp = false
  static hiddenAliases: string[] = []
  static strict = true
  static id: string
  static summary?: string
  static description?: string
  static examples?: string[]
  static flags: Interfaces.FlagInput
  static hidden?: boolean
  static usage?: string | string[]

  id: string | undefined
  parsed = false

  constructor(
    public argv: string[],
    public config: unknown,
  ) {
    this.id = (this.constructor as typeof BaseCommand).id
  }

  /** Run the command: what oclif's Config.runCommand and the dispatcher call. */
  static async run(this: new (argv: string[], config: unknown) => BaseCommand, argv: string[] = [], config?: unknown): Promise<unknown> {
    return new this(argv, config)._run()
  }

  abstract run(): Promise<unknown>

  async _run(): Promise<unknown> {
    try {
      return await this.run()
    } catch (e) {
      return this.catch(e as Error)
    }
  }

  /** oclif's Command.catch: the status of the error (unless one is set), and the error again. */
  protected async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    process.exitCode = process.exitCode ?? err.exitCode ?? 1
    throw err
  }

  /** The parse of this.argv for a command class, as oclif's Command.parse gives it. */
  protected async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options: Interfaces.Input<F, B, A>,
    argv: string[] = this.argv,
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const flags = {...options.baseFlags, ...options.flags}
    const fast = await fastParse(argv, {flags, args: options.args ?? {}, strict: options.strict !== false} as FastInput, this)
    if (fast) {
      this.parsed = true
      return fast as unknown as Interfaces.ParserOutput<F, B, A>
    }
    const Parser = await import('@oclif/core/parser')
    const out = await Parser.parse(argv, {context: this, ...options, flags} as Parameters<typeof Parser.parse>[1])
    this.parsed = true
    return out as Interfaces.ParserOutput<F, B, A>
  }
}

/** A command that reads its own command line (this.argv): the tools' ports, guest start. */
export abstract class RawCommand extends BaseCommand {}

export abstract class AplabCommand extends BaseCommand {
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
    if (isExit(err)) throw err
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
