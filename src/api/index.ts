// The library API: `import {openHost} from 'aplab'` (types/aplab.d.ts).
// A state is held in memory as in `aplab batch` (a store session), and each
// command line runs through the code the binaries run, its output captured.

import * as os from 'node:os'
import * as path from 'node:path'

import type {AplabHost, OpenOptions, RunResult} from '../../types/aplab.js'

let opened = 0

export async function openHost(options: OpenOptions = {}): Promise<AplabHost> {
  const store = await import('../state/store.js')
  const {UsageError} = await import('../core/errors.js')
  if (options.state !== undefined && options.preset !== undefined) throw new UsageError('openHost: give state or preset, not both')
  const world = options.state !== undefined ? await store.load(options.state) : store.newWorld(options.preset ?? 'default', options.hostName)
  // A path that stands for the state in memory: never created, only named.
  const file = path.join(os.tmpdir(), `aplab-memory-${process.pid}-${++opened}.yaml`)
  const session = store.memorySession(file, world)
  let busy = false

  const run = async (line: string | readonly string[]): Promise<RunResult> => {
    if (busy) throw new UsageError('openHost: run() calls must not overlap (await each one)')
    busy = true
    const [{splitLine, runLine}, {DROP_INS, aplabMain}] = await Promise.all([import('../cli/batch.js'), import('../cli/main.js')])
    const out: Buffer[] = []
    const err: Buffer[] = []
    const saved = {stdout: process.stdout.write, stderr: process.stderr.write, env: {...process.env}}
    const capture = (into: Buffer[]) =>
      function (chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean {
        into.push(typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk))
        const done = typeof encoding === 'function' ? encoding : cb
        if (typeof done === 'function') process.nextTick(done as () => void)
        return true
      }
    process.env.APLAB_STATE = file
    delete process.env.APLAB_HOST
    process.env.APLAB_UID = String(options.uid ?? 0)
    process.stdout.write = capture(out) as typeof process.stdout.write
    process.stderr.write = capture(err) as typeof process.stderr.write
    let status: number
    try {
      const words = typeof line === 'string' ? await splitLine(line, saved.env) : [...line]
      status = words.length === 0 ? 0 : await store.inSession(session, () => runLine(words, DROP_INS, aplabMain))
    } catch (e) {
      const {errorMessage} = await import('../cli/env.js')
      const m = errorMessage(e)
      err.push(Buffer.from(`aplab: ${m.message}\n`))
      status = m.exitCode
    } finally {
      process.stdout.write = saved.stdout
      process.stderr.write = saved.stderr
      for (const k of ['APLAB_STATE', 'APLAB_HOST', 'APLAB_UID'])
        if (saved.env[k] === undefined) delete process.env[k]
        else process.env[k] = saved.env[k]
      busy = false
    }
    return {stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status}
  }

  // read() is synchronous: the module it needs is loaded here, once.
  const {hostVfs} = await import('../sysfs/host.js')
  const read = (p: string): string => {
    const host = session.world.hosts.find((h) => h.name === session.world.current) ?? session.world.hosts[0]
    return hostVfs(host, 0).read(p)
  }

  return {
    run,
    read,
    save: async (target: string) => {
      const {worldToData, worldFromData} = await import('../state/schema.js')
      // A copy, so that the state in memory and the one saved go their own ways.
      await store.replace(target, worldFromData(JSON.parse(JSON.stringify(worldToData(session.world)))), true)
    },
  }
}
