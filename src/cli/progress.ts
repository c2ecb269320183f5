// The progress bar of a long `aplab batch` on a terminal: one line on
// standard error, drawn once the batch has run for a while, redrawn a few
// times a second at most (between lines), and erased before anything a line
// prints and at the end, so that the lines' own output reads as it would
// without it. Never drawn when standard error is not a terminal: scripts and
// CI get the same bytes as ever.

/** What the bar writes to: standard error, or a fake one in the tests. */
export interface BarStream {
  isTTY?: boolean
  columns?: number
  write(text: string): unknown
}

export interface BarOptions {
  /** Lines of the script. */
  total: number
  /** Milliseconds before the bar is first drawn (a short batch never shows it). */
  delay?: number
  /** Milliseconds between two drawings at least. */
  interval?: number
  now?: () => number
}

/** Whether a batch draws a bar on `stream`: a terminal that can erase a line, unless turned off. */
export function wantsBar(stream: BarStream, off: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return !off && stream.isTTY === true && env.TERM !== 'dumb'
}

/** Erase the line the cursor is on: carriage return, then ECMA-48 EL (erase to the end of the line). */
export const ERASE = '\r\x1b[K'

export class ProgressBar {
  private readonly total: number
  private readonly delay: number
  private readonly interval: number
  private readonly now: () => number
  private readonly start: number
  private last = -Infinity
  private shown = false
  /** The stream's own write, taken before eraseBeforeOutput puts its own in front. */
  private readonly out: (text: string) => unknown

  constructor(
    private readonly stream: BarStream,
    options: BarOptions,
  ) {
    const write = stream.write
    this.out = (text) => write.call(stream, text)
    this.total = options.total
    this.delay = options.delay ?? 1000
    this.interval = options.interval ?? 250
    this.now = options.now ?? (() => performance.now())
    this.start = this.now()
  }

  /** After a line: draw the bar when it is due (`done` lines run, `failed` of them failed). */
  update(done: number, failed = 0): void {
    const t = this.now()
    if (t - this.start < this.delay || t - this.last < this.interval) return
    this.last = t
    this.out((this.shown ? ERASE : '') + this.text(done, failed))
    this.shown = true
  }

  /** Before any output, and at the end: the bar off the screen (nothing when it is not drawn). */
  erase(): void {
    if (!this.shown) return
    this.shown = false
    this.out(ERASE)
  }

  /**
   * The bar for `done` of the lines: `aplab batch: [#####     ] 1234/2000
   * lines`, within the terminal's width (its cells as many as leave room for
   * the widest count, so that the bar keeps its length).
   */
  text(done: number, failed = 0): string {
    const width = (this.stream.columns || 80) - 1
    const n = `${done}/${this.total} lines${failed > 0 ? `, ${failed} failed` : ''}`
    const room = width - 'aplab batch: [] '.length - `${this.total}/${this.total} lines, ${this.total} failed`.length
    if (room < 10) return `aplab batch: ${n}`.slice(0, width)
    const cells = Math.min(40, room)
    const full = this.total > 0 ? Math.min(cells, Math.floor((done / this.total) * cells)) : cells
    return `aplab batch: [${'#'.repeat(full)}${' '.repeat(cells - full)}] ${n}`
  }
}

/**
 * Erase the bar before whatever is written to standard error, and to
 * standard output when that is a terminal too (the same screen). Undone by
 * the function returned.
 */
export function eraseBeforeOutput(bar: ProgressBar, streams: NodeJS.WriteStream[]): () => void {
  const saved = streams.map((s) => [s, s.write] as const)
  for (const [s, write] of saved)
    s.write = function (this: NodeJS.WriteStream, ...args: unknown[]): boolean {
      bar.erase()
      return (write as (...a: unknown[]) => boolean).apply(this, args)
    } as typeof s.write
  return () => {
    for (const [s, write] of saved) s.write = write
  }
}
