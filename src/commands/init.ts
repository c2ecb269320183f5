import {Flags} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'
import {PRESETS} from '../core/presets.js'
import {newWorld, replace} from '../state/store.js'
import {presetTable} from '../views/aplab.js'

export default class Init extends AplabCommand {
  static override summary = 'Write a fresh state: one host built from a preset'
  static override description = 'Without --force an existing state file is left alone. See aplab(1) for the presets.'
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --preset vfio-ap-doc --force', '<%= config.bin %> init --list', '<%= config.bin %> init --list --json']
  static override flags = {
    preset: Flags.string({char: 'p', description: 'preset to build the host from', default: 'default', options: PRESETS.map((p) => p.name)}),
    force: Flags.boolean({char: 'f', description: 'replace an existing state file'}),
    list: Flags.boolean({char: 'l', description: 'list the presets and exit'}),
    json: Flags.boolean({description: 'with --list: print JSON', dependsOn: ['list']}),
  }

  public async run(): Promise<void> {
    const {flags} = await this.parse(Init)
    if (flags.list && flags.json) return void process.stdout.write(JSON.stringify(PRESETS.map((p) => ({name: p.name, summary: p.summary})), null, 2) + '\n')
    if (flags.list) return void process.stdout.write(await presetTable(PRESETS))
    const env = this.env(flags)
    const world = newWorld(flags.preset, env.host)
    await replace(env.state, world, flags.force)
    process.stdout.write(`Initialized host '${world.current}' from preset '${flags.preset}' in ${env.state}\n`)
  }
}
