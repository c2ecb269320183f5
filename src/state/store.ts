// The state file on disk: where it is, reading and validating it, and
// changing it under a cross-process lock with an atomic replace.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {StateError} from '../core/errors.js'
import type {World} from '../core/model.js'
import {settleGuests} from '../core/guest.js'
import {preset} from '../core/presets.js'
import {STATE_VERSION, SchemaError, migrate, worldFromData, worldToData} from './schema.js'

export const DEFAULT_HOST = 'host0'

/** --state FILE, else $APLAB_STATE, else $XDG_STATE_HOME/aplab/state.yaml (~/.local/state). */
export function statePath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag)
  if (env.APLAB_STATE) return path.resolve(env.APLAB_STATE)
  const base = env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), '.local', 'state')
  return path.join(base, 'aplab', 'state.yaml')
}

export function newWorld(presetName = 'default', hostName = DEFAULT_HOST): World {
  return {current: hostName, hosts: [preset(presetName).build(hostName)]}
}

const HEADER = '# aplab state: one emulated IBM Z host per entry of hosts. See aplab(1).\n'

export async function serialize(w: World): Promise<string> {
  return dataText(worldToData(w))
}

async function dataText(data: unknown): Promise<string> {
  const YAML = await import('yaml')
  return HEADER + YAML.stringify(data, {lineWidth: 0})
}

/** The YAML text as plain data of the current version; StateError names the file and the place. */
async function parseData(text: string, file: string): Promise<unknown> {
  const YAML = await import('yaml')
  const doc = YAML.parseDocument(text, {prettyErrors: true, uniqueKeys: true})
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const where = e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : ''
    throw new StateError(file, `${where}${e.message.split('\n')[0].replace(/ at line \d+, column \d+:$/, '')}`)
  }
  let data: unknown
  try {
    data = doc.toJS()
  } catch (e) {
    throw new StateError(file, (e as Error).message) // aliases: unresolved, or too many
  }
  if (data === null || data === undefined) throw new StateError(file, 'the file is empty')
  return validated(file, () => migrate(data))
}

function validated<T>(file: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof SchemaError) throw new StateError(file, e.message)
    throw e
  }
}

export async function parse(text: string, file: string): Promise<World> {
  const data = await parseData(text, file)
  return validated(file, () => worldFromData(data))
}

/**
 * Parsing YAML costs a new process more than the rest of a typical call, so
 * the data of the last text read or written is kept beside the state file
 * as JSON, with that text. It is used only when the text on disk is exactly
 * the same, so a hand edit is always parsed (and checked) as YAML; a cache
 * that cannot be written is no cache.
 */
const cachePath = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}.cache`)

function cachedData(file: string, text: string): unknown {
  try {
    const c = JSON.parse(fs.readFileSync(cachePath(file), 'utf8')) as {schema?: unknown; text?: unknown; data?: unknown}
    // Data of another schema version (another aplab wrote it) is not this one's to read.
    return c.schema === STATE_VERSION && c.text === text ? c.data : undefined
  } catch {
    return undefined
  }
}

function writeCache(file: string, text: string, data: unknown): void {
  const p = cachePath(file)
  const tmp = `${p}.${process.pid}`
  try {
    fs.writeFileSync(tmp, JSON.stringify({schema: STATE_VERSION, text, data}))
    fs.renameSync(tmp, p)
  } catch {
    try {
      fs.rmSync(tmp, {force: true})
    } catch {
      // nothing was left, or nothing can be removed
    }
  }
}

/** The world of a state file's text, through the cache when it holds this text. */
async function worldOf(text: string, file: string): Promise<World> {
  let data = cachedData(file, text)
  if (data === undefined) {
    data = await parseData(text, file)
    writeCache(file, text, data)
  }
  return validated(file, () => worldFromData(data))
}

/** The text on disk, or null when there is no file yet. */
function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    throw new StateError(file, (e as Error).message)
  }
}

/** Read the state; a missing file is a fresh default host. Never writes the state (only its cache). */
export async function load(file: string): Promise<World> {
  const text = readText(file)
  return text === null ? newWorld() : worldOf(text, file)
}

export async function writeAtomic(file: string, text: string): Promise<void> {
  const {default: writeFileAtomic} = await import('write-file-atomic')
  try {
    await writeFileAtomic(file, text, {fsync: true})
  } catch (e) {
    throw new StateError(file, `cannot write the state: ${(e as Error).message}`)
  }
}

/** Write the data of a world as the state file (and its cache). */
async function writeData(file: string, data: unknown): Promise<void> {
  const text = await dataText(data)
  await writeAtomic(file, text)
  writeCache(file, text, data)
}

/** The file a path names, symbolic links resolved, so that every path to it shares one lock. */
function realFile(file: string): string {
  try {
    return fs.realpathSync(file)
  } catch {
    return file
  }
}

async function withLock<T>(file: string, fn: (checkLock: () => void) => Promise<T>): Promise<T> {
  // /proc and /sys take no files (and mkdir loops on /proc).
  if (/^\/(proc|sys)(\/|$)/.test(path.resolve(file))) throw new StateError(file, 'a state file cannot live under /proc or /sys')
  try {
    fs.mkdirSync(path.dirname(file), {recursive: true})
  } catch (e) {
    throw new StateError(file, `cannot create its directory: ${(e as Error).message}`)
  }
  const {default: lockfile} = await import('proper-lockfile')
  const lockPath = `${realFile(file)}.lock`
  let compromised: Error | null = null
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(file, {
      realpath: false,
      lockfilePath: lockPath,
      stale: 10000,
      retries: {retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 50, randomize: true},
      // Another command took the lock over (this one was stopped for longer than `stale`).
      onCompromised: (e) => {
        compromised = e
      },
    })
  } catch (e) {
    throw new StateError(file, `cannot lock the state (${lockPath}): ${(e as Error).message}`)
  }
  const checkLock = (): void => {
    if (compromised) throw new StateError(file, `another command took over the lock ${lockPath} while this one was stopped; nothing was written`)
  }
  try {
    return await fn(checkLock)
  } finally {
    await release().catch(() => undefined)
  }
}

/**
 * Run `change` on the state while holding the lock, and write the result if
 * it differs from what was read. When `change` throws, nothing is written.
 */
export async function mutate<T>(file: string, change: (w: World) => T | Promise<T>): Promise<T> {
  return withLock(file, async (checkLock) => {
    const text = readText(file)
    const world = text === null ? newWorld() : await worldOf(text, file)
    const before = JSON.stringify(worldToData(world))
    const result = await change(world)
    settleGuests(world)
    const after = worldToData(world)
    if (JSON.stringify(after) !== before) {
      checkLock()
      await writeData(file, after)
    }
    return result
  })
}

/** Write a whole new state (aplab init, import) under the lock. */
export async function replace(file: string, world: World, force: boolean): Promise<void> {
  await withLock(file, async (checkLock) => {
    if (!force && fs.existsSync(file)) throw new StateError(file, 'a state file exists already (use --force to replace it)')
    checkLock()
    await writeData(file, worldToData(world))
  })
}
