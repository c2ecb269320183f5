import {Args, Flags} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'

export default class Batch extends AplabCommand {
  static override summary = 'Run a script of aplab and drop-in command lines in one process, under one lock of the state'
  static override description =
    "Each line is one command line, split as the shell splits it (quotes, backslashes, # comments, $NAME from the environment; no pipes, redirections or ;), starting with aplab or a drop-in's name (lszcrypt, mdevctl, ...). Every line prints what its separate call prints and has its exit status. The state is held in memory and written once, at the end (after every good line with --checkpoint). The first failing line stops the batch, its own changes undone, and the state is written as after the last good line (with --atomic, nothing is written); with --keep-going the other lines still run. The exit status is the first failing line's, else 0. When standard error is a terminal, a batch that runs more than a second draws a progress bar there, erased before anything a line prints and at the end (never with --no-progress or TERM=dumb, nor when standard error is a file or a pipe). See aplab(1)."
  static override examples = ['<%= config.bin %> batch provision.txt', "printf 'aplab mdev create -u %s\\n' $UUIDS | <%= config.bin %> batch --atomic -"]
  static override args = {file: Args.string({description: 'the script (default, or -: standard input)', required: false})}
  static override flags = {
    'keep-going': Flags.boolean({char: 'k', description: 'run the lines after a failing one too'}),
    atomic: Flags.boolean({description: 'write nothing when a line fails', exclusive: ['checkpoint']}),
    checkpoint: Flags.boolean({description: 'write the state after every good line, not only at the end'}),
    'no-progress': Flags.boolean({description: 'draw no progress bar on a terminal'}),
  }

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(Batch)
    if (flags.state !== undefined) process.env.APLAB_STATE = flags.state
    if (flags.host !== undefined) process.env.APLAB_HOST = flags.host
    const {batchMain} = await import('../cli/batch.js')
    await batchMain(args.file, {keepGoing: flags['keep-going'], atomic: flags.atomic, checkpoint: flags.checkpoint, progress: !flags['no-progress']})
  }
}
