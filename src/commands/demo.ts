import {Flags} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'

export default class Demo extends AplabCommand {
  static override summary = "Play the kernel documentation's three-guest example end to end on a throwaway state"
  static override description =
    'Each command is shown as an operator types it, then its real output (the command runs as its own process, as on a shell), then a line on what just happened: masks, three mdevs and their assignments, a refused assignment, three guests and what each sees, an LPAR change with a hot plug, a reboot with persistent and transient configuration, and a detach, migrate and attach. The state is a new temporary file, removed at the end: your own state is never read or written.'
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --step', '<%= config.bin %> demo | less -R']
  static override flags = {step: Flags.boolean({description: 'wait for Enter before each step'})}

  public async run(): Promise<void> {
    const {flags} = await this.parse(Demo)
    const {playDemo} = await import('../cli/demo.js')
    const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR
    const {Chalk} = await import('chalk')
    const c = new Chalk({level: colour ? 1 : 0})
    let waitEnter: (() => Promise<void>) | undefined
    let rl: import('node:readline').Interface | undefined
    if (flags.step) {
      const readline = await import('node:readline')
      rl = readline.createInterface({input: process.stdin, terminal: false})
      const lines: string[] = []
      const waiting: Array<() => void> = []
      let ended = false
      rl.on('line', (l) => (waiting.length ? waiting.shift()!() : lines.push(l)))
      rl.on('close', () => {
        ended = true
        for (const w of waiting.splice(0)) w()
      })
      waitEnter = () => {
        process.stdout.write(c.dim('[Enter] '))
        if (ended) return Promise.resolve(void process.stdout.write('\n'))
        if (lines.length) return Promise.resolve(void lines.shift())
        return new Promise<void>((res) => waiting.push(res))
      }
    }
    try {
      process.exitCode = await playDemo({write: (s) => process.stdout.write(s), waitEnter, command: (s) => c.bold(s), note: (s) => c.cyan(s)})
    } finally {
      rl?.close()
    }
  }
}
