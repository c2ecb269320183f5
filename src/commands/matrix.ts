import {Flags} from '../cli/flags.js'

import {AplabCommand} from '../cli/base.js'
import {pickHost} from '../cli/env.js'
import {AplabError, UsageError} from '../core/errors.js'
import {findGuest} from '../core/guest.js'
import {type Mask, parseRanges} from '../core/mask.js'
import {hostMatrix} from '../core/matrix.js'
import {load} from '../state/store.js'

export default class Matrix extends AplabCommand {
  static override summary = "Draw the host's AP queues: adapters x domains at every filter level, from the LPAR to the guests"
  static override description =
    "Each APQN shows whether it is in the LPAR's configuration, reserved for the host by apmask and aqmask or free for vfio_ap, the driver it is bound to, the mdev it is assigned to and whether it is in that mdev's running guest's APCB; control domains are marked. Shows the configured adapters and domains and those assigned to mdevs, or what --adapters, --domains, --mdev or --guest name; a host too large for 80 columns is summarised. Colours on a terminal unless NO_COLOR is set. See aplab-matrix(1)."
  static override examples = [
    '<%= config.bin %> matrix',
    '<%= config.bin %> matrix --guest guest1',
    '<%= config.bin %> matrix --adapters 0-15 --domains 0x04-0x07',
    '<%= config.bin %> matrix --html /tmp/matrix.html',
    '<%= config.bin %> matrix --json | jq -r \'.queues[] | select(.guest) | .apqn\'',
  ]
  static override flags = {
    mdev: Flags.string({description: 'draw the adapters and domains of this mdev (by UUID)', exclusive: ['guest']}),
    guest: Flags.string({description: 'draw the adapters and domains of this guest and its mdev', exclusive: ['mdev']}),
    adapters: Flags.string({description: 'adapters to draw: numbers and ranges, decimal or 0x hex (0-15,0x20)'}),
    domains: Flags.string({description: 'domains to draw: numbers and ranges, decimal or 0x hex (4,0x47-0x4f)'}),
    json: Flags.boolean({description: 'print the data as JSON (IDs in hex, as drawn)', exclusive: ['html']}),
    html: Flags.string({description: 'write one self-contained HTML page with the four filter levels side by side', helpValue: 'FILE'}),
  }

  public async run(): Promise<void> {
    const {flags} = await this.parse(Matrix)
    const env = this.env(flags)
    const world = await load(env.state)
    // A guest is found on whichever host runs it, unless --host says where to look.
    const host = flags.guest && env.host === undefined ? (findGuest(world, flags.guest)?.host ?? pickHost(world)) : pickHost(world, env.host)
    const ranges = (what: string, text: string | undefined): Mask | undefined => {
      if (text === undefined) return undefined
      try {
        return parseRanges(text)
      } catch (e) {
        throw new UsageError(`--${what} ${text}: ${(e as Error).message}`)
      }
    }
    const view = hostMatrix(host, {adapters: ranges('adapters', flags.adapters), domains: ranges('domains', flags.domains), mdev: flags.mdev, guest: flags.guest})
    if (flags.json) return void process.stdout.write((await import('../views/matrix/json.js')).matrixJson(view))
    if (flags.html !== undefined) {
      const {matrixHtml} = await import('../views/matrix/html.js')
      const {writeFileSync} = await import('node:fs')
      try {
        writeFileSync(flags.html, matrixHtml(view))
      } catch (e) {
        const err = e as NodeJS.ErrnoException
        const why = {EISDIR: 'is a directory', ENOENT: 'its directory does not exist', EACCES: 'permission denied', ENOTDIR: 'a part of the path is not a directory'}[err.code ?? '']
        throw new AplabError(`cannot write ${flags.html}: ${why ?? err.message}`)
      }
      return
    }
    const {matrixText, PLAIN} = await import('../views/matrix/text.js')
    const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR
    let paint = PLAIN
    if (colour) {
      const {Chalk} = await import('chalk')
      const c = new Chalk({level: 1})
      paint = {off: c.gray, host: c.yellow, free: c.green, none: c.red, assigned: c.cyan, guest: (s) => c.bold.magenta(s), bold: c.bold}
    }
    process.stdout.write(matrixText(view, paint, flags.adapters !== undefined || flags.domains !== undefined))
  }
}
