import {Flags} from '../../cli/flags.js'

import {AplabCommand} from '../../cli/base.js'
import {StateError} from '../../core/errors.js'
import {type Problem, worldProblems} from '../../core/invariants.js'
import {SchemaError, readWorld} from '../../state/schema.js'
import {readData} from '../../state/store.js'

/** A StateError's text as a problem: `line L, column C: ...` and `version: ...` keep their place apart. */
function stateProblem(e: StateError): Problem {
  const m = /^(line \d+, column \d+|version|\(top level\)): (.*)$/s.exec(e.detail)
  return m ? {where: m[1], message: m[2]} : {where: '', message: e.detail}
}

/**
 * Every problem of a state file: the first one that stops reading (YAML,
 * a field of the wrong kind), or else every rule between objects it breaks.
 * Reads only: neither the file nor its cache changes.
 */
export async function checkFile(file: string): Promise<{exists: boolean; problems: Problem[]}> {
  let data: unknown
  try {
    data = await readData(file)
  } catch (e) {
    if (e instanceof StateError) return {exists: true, problems: [stateProblem(e)]}
    throw e
  }
  if (data === null) return {exists: false, problems: []}
  try {
    return {exists: true, problems: worldProblems(readWorld(data))}
  } catch (e) {
    if (e instanceof SchemaError) return {exists: true, problems: [{where: e.where, message: e.what}]}
    throw e
  }
}

export default class StateCheck extends AplabCommand {
  static override summary = 'Check the state file against the kernel rules and report every problem; changes nothing'
  static override description =
    'Prints one line per problem (FILE: WHERE: WHAT), or FILE: ok. Exit status 0 when the state is sound, 1 when it has a problem. A missing file is a fresh default host, which is sound. Every host is checked, whatever --host names.'
  static override examples = ['<%= config.bin %> state check', '<%= config.bin %> state check --state lab.yaml --json']
  static override flags = {json: Flags.boolean({description: 'print {file, ok, problems: [{where, message}]} as JSON'})}

  public async run(): Promise<void> {
    const {flags} = await this.parse(StateCheck)
    const file = this.env(flags).state
    const {exists, problems} = await checkFile(file)
    if (flags.json) process.stdout.write(JSON.stringify({file, ok: problems.length === 0, problems}, null, 2) + '\n')
    else if (problems.length === 0) process.stdout.write(exists ? `${file}: ok\n` : `${file}: ok (no file yet: a fresh default host)\n`)
    else process.stdout.write(problems.map((p) => `${file}: ${p.where ? `${p.where}: ` : ''}${p.message}\n`).join(''))
    if (problems.length > 0) process.exitCode = 1
  }
}
