import {Args} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'

export default class Autocomplete extends AplabCommand {
  static override summary = 'Print the shell completion script for bash or zsh'
  static override description =
    "Completes commands, options, mdev UUIDs (of --host's host), guest, host and preset names from the state, and file names where a path is due. The script calls aplab __complete, which answers without loading the command table. SHELL picks the shell when none is named."
  static override examples = [
    'eval "$(<%= config.bin %> autocomplete bash)"    # in ~/.bashrc',
    'eval "$(<%= config.bin %> autocomplete zsh)"     # in ~/.zshrc, after compinit',
    '<%= config.bin %> autocomplete zsh > "${fpath[1]}/_aplab"',
  ]
  static override args = {shell: Args.string({description: 'bash or zsh (default: from $SHELL, else bash)', options: ['bash', 'zsh']})}

  public async run(): Promise<void> {
    const {args} = await this.parse(Autocomplete)
    const shell = args.shell ?? (/zsh$/.test(process.env.SHELL ?? '') ? 'zsh' : 'bash')
    const {BASH_SCRIPT, ZSH_SCRIPT} = await import('../cli/complete.js')
    process.stdout.write(shell === 'zsh' ? ZSH_SCRIPT : BASH_SCRIPT)
  }
}
