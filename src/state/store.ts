// The state file on disk: where it is, reading and validating it, and
// changing it under a cross-process lock with an atomic replace.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {StateError, UsageError} from '../core/errors.js'
import type {Host, World} from '../core/model.js'
import {settleGuests} from '../core/guest.js'
import {type KeptMdevs, UNRULED, worldProblems} from '../core/invariants.js'
import {preset} from '../core/presets.js'
import {type Place, locate, makeDirs, readRegular, removeDirs, replaceFile, whyOn} from './files.js'
import {textHash} from './hash.js'
import {type DataJson, cachedData, dataJson, isJson, jsonText, spansOf, writeCache} from './cache.js'
import {Journal, snapshotInPlace} from './journal.js'
import type {Emitted, Previous, Spans} from './emit.js'
import {type KeptMdevsRead, keptMdevs, mdevsTouched, unreadGuests, worldToData} from './data.js'
import {SchemaError, migrate, readWorld, worldFromData} from './schema.js'

export {MAX_STATE_BYTES} from './files.js'

export const DEFAULT_HOST = 'host0'

/** --state FILE, else $APLAB_STATE, else $XDG_STATE_HOME/aplab/state.yaml (~/.local/state). */
export function statePath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  // An empty --state (a script's unset variable) names no file: never the default lab.
  if (flag === '') throw new UsageError('--state needs a file name, not an empty string')
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
  return (await dataText(worldToData(w))).text
}

/**
 * The text of YAML.stringify(data, {lineWidth: 0}) after the header, through
 * aplab's own writer (state/emit.ts: the same bytes at a fraction of the
 * cost on a big host, copying from `prev` what has not changed, with the
 * spans the next write copies from), or yaml's where that one cannot say.
 */
async function dataText(data: unknown, prev?: Previous): Promise<{readonly text: string; pieces: string[]; spans?: Spans; emitted?: Emitted}> {
  const {emitState} = await import('./emit.js')
  // yaml is loaded only for a string the writer cannot say itself (most states have none):
  // the writer is first run without it, and again with it when it asked.
  const needsYaml = new Error('yaml')
  const noYaml = {stringify: () => {
    throw needsYaml
  }} as unknown as Parameters<typeof emitState>[1]
  try {
    const e = emitState(data, noYaml, HEADER, prev)
    if (e) return emittedText(e)
  } catch (err) {
    if (err !== needsYaml) throw err
  }
  const {default: YAML} = await import('yaml')
  const e = emitState(data, YAML, HEADER, prev)
  if (e) return emittedText(e)
  const text = HEADER + YAML.stringify(data, {lineWidth: 0})
  return {text, pieces: [text]}
}

/** dataText's answer for a text emitState wrote. */
const emittedText = (e: Emitted): {readonly text: string; pieces: string[]; spans: Spans; emitted: Emitted} => ({
  get text() {
    return e.text
  },
  pieces: e.pieces,
  spans: e.spans,
  emitted: e,
})

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

/** The world of data this build wrote, or undefined if it is not what this build writes. */
function trustedWorld(data: unknown, exact: boolean): World | undefined {
  try {
    return readWorld(data, true, exact)
  } catch {
    return undefined
  }
}

/** The world of data that keeps every rule, or undefined. */
function checkedWorld(data: unknown): World | undefined {
  try {
    return worldFromData(data)
  } catch {
    return undefined
  }
}

/** A world as read from a state file, with the JSON of its data (worldToData) as read, and what a write can copy from. */
interface Loaded {
  world: World
  /** The JSON of the data as read (worldToData's form). */
  json: string
  prev?: Previous
}

/** The world of a state file's text, through the cache when it holds this text. */
async function worldOf(text: string, place: Place, stat: fs.Stats): Promise<World> {
  return (await loadedOf({text, stat}, place)).world
}

/** worldOf of a file as read (its text decoded only when needed), with the JSON of the data as read. */
async function loadedOf(r: {bytes?: Buffer; readonly text: string; stat: fs.Stats}, place: Place): Promise<Loaded> {
  const {stat} = r
  const sha = textHash(r.bytes ?? r.text)
  const cached = cachedData(place.real, sha, stat)
  // Checked by this build before it was written: the fields are read (the
  // mdevs without their checks), the rules between objects are known to
  // hold. Data that is not what this build writes, which only a hand on the
  // cache could make, is no cache.
  const trusted = cached?.checked ? trustedWorld(cached.data, cached.exact === true) : undefined
  if (cached && trusted) {
    const world = trusted
    const spansText = cached.spans
    let spans: Spans | undefined
    const prev = spansText !== undefined && {
      data: cached.data,
      get spans(): Spans {
        return (spans ??= spansOf(spansText))
      },
      get text() {
        return r.text
      },
    }
    return {world, json: cached.json, ...(prev && {prev})}
  }
  // Another build's data is checked as the YAML would be; data that fails
  // is no cache, and the YAML says what is wrong.
  let world = cached && !cached.checked ? checkedWorld(cached.data) : undefined
  if (world === undefined) {
    const data = await parseData(r.text, place.file)
    world = validated(place.file, () => worldFromData(data))
  }
  // Only data that passed every check is cached: JSON has no NaN or
  // infinity (`.nan` would come back as null, a missing field), so a refused
  // text must never reach the cache, or its next read would not be refused.
  const json = dataJson(worldToData(world))
  await writeCache(place.real, sha, json, stat)
  return {world, json: jsonText(json)}
}

/**
 * Read the state; a missing file is a fresh default host. Never writes the
 * state (only its cache). Anything but a regular file of at most
 * MAX_STATE_BYTES is refused with a StateError naming the path.
 */
export async function load(file: string): Promise<World> {
  const place = locate(file)
  const session = current()
  if (session?.real === place.real) return session.world
  const r = readRegular(place)
  return r === null ? newWorld() : endGuestsOfDeadProcesses((await loadedOf(r, place)).world)
}

/**
 * A guest run by a qemu-system-s390x process that is gone (killed, even by
 * SIGKILL) has ended: it is presented stopped, and the next change saves it.
 * The process is judged as the lock judges its holder (pid and start time).
 */
export async function endGuestsOfDeadProcesses(w: World): Promise<World> {
  // Guests not read yet (data.ts) are read only when one of them has a process.
  const run = w.hosts.flatMap((h) => (unreadGuests(h)?.hasProcess() === false ? [] : h.guests)).filter((g) => g.running && g.process)
  if (run.length === 0) return w
  const {judge} = await import('./lock.js')
  for (const g of run)
    if (judge(g.process!) === 'dead') {
      g.running = false
      delete g.runState
      delete g.process
    }
  return w
}

/**
 * The plain data of a state file, read as `load` reads it but neither
 * through nor into the cache, so that nothing changes (`aplab state check`);
 * null when there is no file. StateError as `load` gives it.
 */
export async function readData(file: string): Promise<unknown> {
  const place = locate(file)
  const r = readRegular(place)
  return r === null ? null : parseData(r.text, place.file)
}

/**
 * Write the data of a world (checked against the kernel's rules by the
 * caller) as the state file and its cache, keeping the mode and owner of the
 * file it replaces.
 */
async function writeData(place: Place, data: unknown, like: fs.Stats | undefined): Promise<void> {
  await writeText(place, await dataText(data), like, dataJson(data as Record<string, unknown>))
}

/** Write a state's text (dataText's) and its cache; `json` is its data's JSON (dataJson). */
async function writeText(place: Place, {pieces, spans}: {pieces: string[]; spans?: Spans}, like: fs.Stats | undefined, json: DataJson): Promise<void> {
  // Encoded piece by piece into one buffer: a copied run is a slice of the text before, written as it
  // lies. The buffer has room for three bytes a UTF-16 unit (UTF-8's most), so no piece is measured
  // first; the pages past what is written are never touched.
  let units = 0
  for (const p of pieces) units += p.length
  const room = Buffer.allocUnsafe(3 * units)
  let at = 0
  for (const p of pieces) at += room.write(p, at)
  const bytes = room.subarray(0, at)
  let st: fs.Stats
  try {
    st = await replaceFile(place.real, bytes, {like, durable: true})
  } catch (e) {
    throw new StateError(place.file, `cannot write the state: ${whyOn(e, path.dirname(place.real))}`)
  }
  await writeCache(place.real, textHash(bytes), json, st, spans)
}

/**
 * Refuse to write a world that breaks one of the kernel's rules between
 * objects: what is written must load again. Every state read kept them, so
 * a host's mdevs unchanged since the read keep those between themselves.
 */
function mustLoadAgain(place: Place, world: World, what: string, only?: 'mdevs', kept: (h: Host) => KeptMdevs = keptMdevs): void {
  const broken = worldProblems(world, kept, only)[0]
  if (broken) throw new StateError(place.file, `not saved: ${what} would break a rule of the kernel (${broken.where}: ${broken.message})`)
}

/**
 * Whether a text written over `prev` (emitState) differs from it only in
 * fields that no rule between objects reads (core/invariants.ts UNRULED):
 * the world it was read from kept every rule, so the new one keeps them too.
 */
function onlyUnruledChanged(e: Emitted): boolean {
  return e.open && e.changed.every((c) => c.open || unruled(c.path))
}

/** Whether a place of the state's data holds fields that no rule between objects reads. */
const unruled = (p: Array<string | number>): boolean =>
  p[0] === 'hosts' && typeof p[1] === 'number' && (p[2] === 'persistent' || (p[2] === 'runtime' && (UNRULED.runtime as readonly unknown[]).includes(p[3])))

/**
 * Whether a text written over `prev` differs from it only in mdevs (a
 * host's list, and anything in it) and fields no rule reads, and no guest
 * running when the state was read has one of those read changed or gone
 * open (data.ts mdevsTouched; new ones it cannot have open): no running
 * guest sees the change, so none is to be settled, and only the rules of
 * the mdevs can be broken (removing one breaks none of theirs, and no
 * running guest's mdev is gone).
 */
function onlyMdevsChanged(e: Emitted, world: World, kept: (h: Host) => KeptMdevsRead): boolean {
  const mdevs = (p: Array<string | number>): boolean => p[0] === 'hosts' && typeof p[1] === 'number' && p[2] === 'runtime' && p[3] === 'mdevs'
  if (!e.open || !e.changed.every((c) => c.open || unruled(c.path) || mdevs(c.path))) return false
  return world.hosts.every((h) => {
    const touched = mdevsTouched(kept(h))
    if (touched === undefined) return false
    // A guest that kept running since the read: one it started would be a change of the guests.
    if (touched.size === 0) return true
    const unread = unreadGuests(h)
    return unread ? !unread.runWith(touched) : !h.guests.some((g) => g.running && g.device && touched.has(g.device.uuid))
  })
}

/** keptMdevs, asked once per host while nothing changes (the check after onlyMdevsChanged). */
function keptOnce(): (h: Host) => KeptMdevsRead {
  const known = new Map<Host, KeptMdevsRead>()
  return (h) => {
    let k = known.get(h)
    if (k === undefined) known.set(h, (k = keptMdevs(h)))
    return k
  }
}

/** The name this process goes by in messages: aplab or the drop-in's. */
const progName = (): string => path.basename(process.argv[1] ?? 'aplab', '.js')

interface Guard {
  /** Throws when the lock is no longer this command's: then nothing may be written. */
  check(): void
  /** Record that the state was written (the directories made for it stay). */
  wrote(): void
}

/**
 * Run `fn` holding the state's lock. The path is checked first, so nothing
 * is created beside what is refused; missing directories are made for the
 * lock and removed again when nothing was written.
 */
async function withLock<T>(file: string, fn: (place: Place, guard: Guard) => Promise<T>): Promise<T> {
  const place = locate(file)
  const dir = path.dirname(place.real)
  const created: string[] = []
  const make = (): void => {
    try {
      created.push(...makeDirs(dir))
    } catch (e) {
      throw new StateError(place.file, `cannot create its directory: ${whyOn(e, (e as NodeJS.ErrnoException).path ?? dir)}`)
    }
  }
  make()
  const {acquire} = await import('./lock.js')
  let held: Awaited<ReturnType<typeof acquire>>
  try {
    // The notice goes straight to descriptor 2, as the tools' output does (cli/env.ts): a
    // closed standard error costs the notice, never the command.
    const notice = (m: string): void => {
      try {
        fs.writeSync(2, `${progName()}: ${m}\n`)
      } catch {
        // nowhere to say it
      }
    }
    held = await acquire(place.real, {onWait: notice, makeDir: make})
  } catch (e) {
    removeDirs(created)
    if (e instanceof StateError) throw e
    throw new StateError(place.file, `cannot lock the state: ${whyOn(e, dir)}`)
  }
  let wrote = false
  const guard: Guard = {
    check: () => {
      if (!held.stillHeld()) throw new StateError(place.file, `the lock ${held.lockDir} was taken from this command; nothing was written`)
    },
    wrote: () => {
      wrote = true
    },
  }
  try {
    return await fn(place, guard)
  } finally {
    held.release()
    if (!wrote) removeDirs(created)
  }
}

/**
 * Run `change` on the state while holding the lock, and write the result if
 * it differs from what was read. When `change` throws, nothing is written.
 */
export async function mutate<T>(file: string, change: (w: World) => T | Promise<T>): Promise<T> {
  const session = sessionOf(file)
  if (session) return sessionMutate(session, change)
  return withLock(file, async (place, guard) => {
    const r = readRegular(place)
    const loaded = r === null ? undefined : await loadedOf(r, place)
    const world = loaded?.world ?? newWorld()
    // The data as read, to tell whether anything changed (a fresh default host: nothing yet).
    const before = loaded?.json ?? JSON.stringify(worldToData(world))
    await endGuestsOfDeadProcesses(world)
    const result = await change(world)
    // What a change unplugs from running guests is gone from their kernels
    // (settleGuests). A world this build wrote (it has spans: prev) was
    // settled before it was written, and a change of only fields that no
    // rule reads cannot reach a guest: it is settled only after any other.
    const prev = loaded?.prev
    if (!prev) settleGuests(world)
    // The lists never read are given back as read (parts.ts Part), where the text is written over.
    let after = worldToData(world, prev !== undefined)
    let json = dataJson(after)
    if (isJson(json, before)) return result
    // Written over the text read, copying from it what has not changed.
    let written = await dataText(after, prev)
    let kept: ((h: Host) => KeptMdevsRead) | undefined
    // A change of fields that no rule reads needs no new check. A change of mdevs that no running
    // guest has open reaches no guest and can break only the mdevs' rules (on a host of a thousand
    // mdevs and a hundred guests, settling and checking the guests was most of such a change).
    if (written.emitted && onlyUnruledChanged(written.emitted)) {
      // nothing to check
    } else if (written.emitted && prev && onlyMdevsChanged(written.emitted, world, (kept = keptOnce()))) mustLoadAgain(place, world, 'the change', 'mdevs', kept)
    else {
      // Settling that changes no guest's kernel leaves the data as made.
      if (prev && settleGuests(world)) {
        after = worldToData(world, true)
        const settled = dataJson(after)
        if (isJson(settled, before)) return result
        if (!isJson(settled, jsonText(json))) written = await dataText(after, prev)
        json = settled
      }
      // What is written must load again: a change that would break one of the
      // kernel's rules between objects (a fault of aplab's, never a user's) is
      // not saved.
      mustLoadAgain(place, world, 'the change')
    }
    guard.check()
    await writeText(place, written, r?.stat, json)
    guard.wrote()
    return result
  })
}

/** Write a whole new state (aplab init, import) under the lock. */
export async function replace(file: string, world: World, force: boolean): Promise<void> {
  const session = sessionOf(file)
  if (session) {
    if (!force && session.exists) throw new StateError(session.file, 'a state file exists already (use --force to replace it)')
    const before = {world: session.world, exists: session.exists}
    session.journal.onUndo(() => Object.assign(session, before))
    session.world = world
    session.exists = true
    session.dirty = true
    return
  }
  await withLock(file, async (place, guard) => {
    let like: fs.Stats | undefined
    try {
      like = fs.statSync(place.real)
    } catch {
      // a new file
    }
    if (!force && like) throw new StateError(place.file, 'a state file exists already (use --force to replace it)')
    settleGuests(world)
    mustLoadAgain(place, world, 'the new state')
    guard.check()
    await writeData(place, worldToData(world), like)
    guard.wrote()
  })
}

// --- one lock for many commands (aplab batch) ------------------------------------

/**
 * A state held in memory by `aplab batch` under the state's lock: load,
 * mutate and replace of that file use it instead of the disk, and the
 * batch writes it when it chooses (`save`). `journal` keeps what the
 * current line's changes overwrote, for undoing a failed line.
 */
export interface Session {
  file: string
  real: string
  world: World
  exists: boolean
  dirty: boolean
  journal: Journal
  /** Write the world now (a checkpoint, or the end). */
  save(): Promise<void>
}

// Kept on the global object, so that any copy of this module in a process
// (the bundles share one, but a program may load dist/'s modules beside
// them) serves the session one of them made, with its journal.
const SESSION = Symbol.for('aplab.state.session')
const holder = globalThis as {[SESSION]?: Session}
const current = (): Session | undefined => holder[SESSION]

/** The names of the state file already seen in this session: its path is checked once, not at every line. */
const sessionNames = new WeakMap<Session, Set<string>>()

/** The session holding `file` in memory, if any. */
function sessionOf(file: string): Session | undefined {
  const s = current()
  if (s === undefined) return undefined
  let names = sessionNames.get(s)
  if (names?.has(file)) return s
  if (locate(file).real !== s.real) return undefined
  if (names === undefined) sessionNames.set(s, (names = new Set()))
  names.add(file)
  return s
}

/** Whether `file` is held in memory by a session (aplab batch, the library): no other process can change it meanwhile. */
export function heldInSession(file: string): boolean {
  return sessionOf(file) !== undefined
}

function newSession(file: string, real: string, world: World, exists: boolean, save: (s: Session) => Promise<void>): Session {
  const s: Session = {
    file,
    real,
    world,
    exists,
    dirty: false,
    journal: new Journal(),
    save: () => save(s),
  }
  return s
}

/**
 * mutate inside a batch: the change is made on the state in memory, through
 * the journal's view of it, so that it can be undone. A change that throws
 * is undone at once (nothing of it stays, as nothing of it is written by a
 * separate call); the changes of a line that fails are undone by the batch
 * (sessionUndoLine). The kernel's rules between objects are checked when the
 * state is written (save), not at every line: a check of the whole state
 * per line made a batch quadratic.
 */
async function sessionMutate<T>(s: Session, change: (w: World) => T | Promise<T>): Promise<T> {
  const j = s.journal
  const mark = j.mark()
  try {
    const result = await change(j.view(s.world))
    settleInSession(s)
    if (j.changed) {
      s.dirty = true
      if (!s.exists) {
        s.exists = true
        j.onUndo(() => (s.exists = false))
      }
    }
    return result
  } catch (e) {
    j.undo(mark)
    throw e
  }
}

/**
 * settleGuests on the state in memory, what it changes kept for undoing.
 * It reads every running guest's view of its host (their adapters and
 * queues, the mdev it has open), many times what a proxy reads at a plain
 * object's cost, and changes only those guests' kernels (their runtime,
 * as core/guest.ts says): so it runs on the state itself, after a copy of
 * each running guest's runtime is kept (test/state/journal.test.ts holds
 * it to writing nothing else).
 */
function settleInSession(s: Session): void {
  // Kept in place, by identity: undoing the line then puts these objects
  // back as settling found them, and the change's own undo entries (made
  // before, on the same objects) take them back to before the change.
  const restores: Array<() => void> = []
  for (const h of s.world.hosts) for (const g of h.guests) if (g.running) restores.push(snapshotInPlace(g.runtime))
  if (restores.length === 0) return
  s.journal.onUndo(() => restores.forEach((r) => r()))
  settleGuests(s.world)
}

/** A new line starts: the changes of the lines before it are kept. */
export function sessionStartLine(s: Session): void {
  s.journal.commit()
}

/** Undo the changes of the current line (it failed): the world as before its first change. */
export function sessionUndoLine(s: Session): void {
  s.journal.undo()
  s.journal.commit()
}

/**
 * Run `fn` with the state of `file` held in memory under its lock; nothing
 * is written but what `fn` saves. Commands run inside see that state.
 */
export async function withSession<T>(file: string, fn: (s: Session) => Promise<T>): Promise<T> {
  return withLock(file, async (place, guard) => {
    const r = readRegular(place)
    let like = r?.stat
    const world = r === null ? newWorld() : await worldOf(r.text, place, r.stat)
    const s = newSession(place.file, place.real, world, r !== null, async (s) => {
      if (!s.dirty) return
      // What is written must load again (see mutate).
      const broken = worldProblems(s.world)[0]
      if (broken) throw new StateError(place.file, `not saved: the changes would break a rule of the kernel (${broken.where}: ${broken.message})`)
      guard.check()
      await writeData(place, worldToData(s.world), like)
      guard.wrote()
      like = fs.statSync(place.real)
      s.dirty = false
    })
    holder[SESSION] = s
    try {
      return await fn(s)
    } finally {
      delete holder[SESSION]
    }
  })
}

/** A session of a state in memory only (the library API): no lock, no file; save does nothing. */
export function memorySession(file: string, world: World): Session {
  const place = locate(file)
  const s = newSession(place.file, place.real, world, true, async () => undefined)
  return s
}

/** Run `fn` with `s` as the session its commands see; a failed command's changes are undone, as in a batch. */
export async function inSession<T extends number>(s: Session, fn: () => Promise<T>): Promise<T> {
  const before = holder[SESSION]
  holder[SESSION] = s
  sessionStartLine(s)
  try {
    const status = await fn()
    if (status !== 0) sessionUndoLine(s)
    return status
  } finally {
    if (before === undefined) delete holder[SESSION]
    else holder[SESSION] = before
  }
}
