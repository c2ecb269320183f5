// The undo record of a state held in memory (aplab batch, the library API):
// what a command line's changes overwrote, so that a failed line can be put
// back without a copy of the whole state at every line.
//
// The code that changes the state is handed a view of it: proxies over its
// plain objects and arrays (masks, the model's only class, are immutable and
// stay as they are). A write through the view first saves what it
// overwrites: for an object the old value of each key written (and its key
// order, when a key that was there is deleted), for an array a copy of its
// elements. So a line costs what it changes and a little per property it
// reads, not what the state holds. Code scans lists (mdevs, guests, log
// lines): an array's scans and iterations run over a plain array of its
// elements' views, kept in step with the array by its writes, since
// indexing through a proxy costs many times a plain index. The state itself
// keeps only plain objects: a value written through the view is stored
// without its proxies.

type Obj = Record<PropertyKey, unknown>

interface ObjectEntry {
  kind: 'object'
  target: Obj
  /** Each key written: whether it was there, and its value. */
  saved: Map<PropertyKey, {had: boolean; value: unknown}>
  /** The keys in their order, taken before the first delete of one that was there. */
  order?: PropertyKey[]
}

interface ArrayEntry {
  kind: 'array'
  target: unknown[]
  /** Its elements as they were. */
  copy: unknown[]
}

interface OtherEntry {
  kind: 'other'
  undo: () => void
}

type Entry = ObjectEntry | ArrayEntry | OtherEntry

const isPlainObject = (x: object): boolean => {
  const p = Object.getPrototypeOf(x)
  return p === Object.prototype || p === null
}

/**
 * The array methods that read an array without changing it, with the
 * position of the array among their callback's arguments (0: no callback).
 * They run over the array's plain array of views (see Journal.scan).
 */
const SCANS = new Map<PropertyKey, number>([
  ['at', 0], ['concat', 0], ['entries', 0], ['every', 3], ['filter', 3], ['find', 3], ['findIndex', 3], ['findLast', 3],
  ['findLastIndex', 3], ['flat', 0], ['flatMap', 3], ['forEach', 3], ['includes', 0], ['indexOf', 0], ['join', 0], ['keys', 0],
  ['lastIndexOf', 0], ['map', 3], ['reduce', 4], ['reduceRight', 4], ['slice', 0], ['some', 3], ['toReversed', 0], ['toSorted', 0],
  ['toSpliced', 0], ['values', 0], ['with', 0], [Symbol.iterator, 0],
])

const ARRAY = Array.prototype as unknown as Record<PropertyKey, unknown>

/** An array index as a property key ('0', '1', ...). */
const isIndex = (k: PropertyKey): k is string => typeof k === 'string' && k.length > 0 && k.length < 11 && /^(0|[1-9][0-9]*)$/.test(k)

/**
 * Keep what `root` and every plain object and array below it hold, by
 * identity: the function returned puts each of them back as it was, in
 * place, and with it which objects hold which. Undo entries made before the
 * snapshot (the journal's, on those very objects) then apply to the objects
 * the state holds again. Masks and other class instances are values, kept
 * as they are.
 */
export function snapshotInPlace(root: object): () => void {
  const kept: Array<[Obj | unknown[], Obj | unknown[]]> = []
  const seen = new Set<object>()
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return
    const p = Object.getPrototypeOf(v)
    if (!Array.isArray(v) && p !== Object.prototype && p !== null) return
    seen.add(v)
    if (Array.isArray(v)) {
      kept.push([v, v.slice()])
      for (const x of v) walk(x)
    } else {
      kept.push([v as Obj, Object.assign(Object.create(p) as Obj, v)])
      for (const k in v as Obj) walk((v as Obj)[k])
    }
  }
  walk(root)
  return () => {
    for (const [target, content] of kept)
      if (Array.isArray(target)) target.splice(0, target.length, ...(content as unknown[]))
      else restoreObject(target, content)
  }
}

export function restoreObject(target: object, copy: object): void {
  const t = target as Obj
  for (const k of Reflect.ownKeys(t)) delete t[k]
  Object.assign(t, copy)
}

export class Journal {
  private readonly proxyOf = new WeakMap<object, object>()
  private readonly rawOf = new WeakMap<object, object>()
  /** What the writes since the last commit overwrote, in order. */
  private entries: Entry[] = []
  /** The entries of the objects written since the last mark. */
  private seen = new Map<object, ObjectEntry | ArrayEntry>()
  /** The plain arrays of views of the arrays scanned since the last mark, kept in step by their writes. */
  private mirrors = new Map<unknown[], unknown[]>()
  private readonly objects: ProxyHandler<Obj>
  private readonly arrays: ProxyHandler<unknown[]>

  constructor() {
    const j = this
    this.objects = {
      get(t, k) {
        const v = t[k]
        return typeof v === 'object' && v !== null ? j.view(v) : v
      },
      set(t, k, v) {
        j.save(t, k, false)
        return Reflect.set(t, k, j.raw(v))
      },
      deleteProperty(t, k) {
        j.save(t, k, true)
        return Reflect.deleteProperty(t, k)
      },
      defineProperty(t, k, d) {
        j.save(t, k, false)
        return Reflect.defineProperty(t, k, 'value' in d ? {...d, value: j.raw(d.value)} : d)
      },
    }
    this.arrays = {
      get(t, k) {
        const pos = SCANS.get(k)
        if (pos !== undefined && (t as unknown as Record<PropertyKey, unknown>)[k] === ARRAY[k]) return j.scan(t, k, pos)
        const v = (t as unknown as Obj)[k]
        return typeof v === 'object' && v !== null ? j.view(v) : v
      },
      set(t, k, v) {
        j.save(t as unknown as Obj, k, false)
        const ok = Reflect.set(t, k, j.raw(v))
        j.follow(t, k)
        return ok
      },
      deleteProperty(t, k) {
        j.save(t as unknown as Obj, k, true)
        const ok = Reflect.deleteProperty(t, k)
        j.follow(t, k)
        return ok
      },
      defineProperty(t, k, d) {
        j.save(t as unknown as Obj, k, false)
        const ok = Reflect.defineProperty(t, k, 'value' in d ? {...d, value: j.raw(d.value)} : d)
        j.follow(t, k)
        return ok
      },
    }
  }

  /** The view of a value: its proxy when it is a plain object or array, else itself. */
  view<T>(x: T): T {
    if (typeof x !== 'object' || x === null) return x
    const p = this.proxyOf.get(x)
    if (p !== undefined) return p as T
    if (this.rawOf.has(x)) return x
    let proxy: object
    if (Array.isArray(x)) proxy = new Proxy(x, this.arrays)
    else if (isPlainObject(x)) proxy = new Proxy(x as Obj, this.objects)
    else return x
    this.proxyOf.set(x, proxy)
    this.rawOf.set(proxy, x)
    return proxy as T
  }

  /**
   * Array method `k` of array `t` (one that only reads it) run over the
   * plain array of its elements' views. A callback that takes the array
   * (its argument at `pos`) is given the array's view, so that what it
   * writes through it is recorded.
   */
  private scan(t: unknown[], k: PropertyKey, pos: number): (...args: unknown[]) => unknown {
    let m = this.mirrors.get(t)
    if (m === undefined || m.length !== t.length) {
      m = t.map((x) => this.view(x))
      this.mirrors.set(t, m)
    }
    const views = m
    const native = ARRAY[k] as (...args: unknown[]) => unknown
    const proxy = this.proxyOf.get(t)
    return (...args: unknown[]): unknown => {
      const cb = args[0]
      if (pos > 0 && typeof cb === 'function' && cb.length >= pos)
        args[0] = function (this: unknown, ...a: unknown[]): unknown {
          a[pos - 1] = proxy
          return cb.apply(this, a)
        }
      return native.apply(views, args)
    }
  }

  /** Keep the plain array of views of `t` in step with a write of its key `k`. */
  private follow(t: unknown[], k: PropertyKey): void {
    const m = this.mirrors.get(t)
    if (m === undefined) return
    if (k === 'length') m.length = t.length
    else if (isIndex(k)) {
      if (Object.hasOwn(t, k)) m[Number(k)] = this.view(t[Number(k)])
      else delete m[Number(k)]
    }
  }

  /**
   * A value as it is stored: a proxy of the view is its object, and the
   * proxies inside a new object or array (one the changing code made) are
   * replaced by theirs in place.
   */
  raw<T>(x: T): T {
    if (typeof x !== 'object' || x === null) return x
    const r = this.rawOf.get(x)
    if (r !== undefined) return r as T
    return Array.isArray(x) || isPlainObject(x) ? this.rawInside(x, new Set()) : x
  }

  private rawInside<T extends object>(x: T, seen: Set<object>): T {
    if (seen.has(x)) return x
    seen.add(x)
    const o = x as Obj
    for (const k of Object.keys(o)) {
      const v = o[k]
      if (typeof v === 'object' && v !== null) {
        const u = this.rawOf.get(v)
        if (u !== undefined) o[k] = u
        else if (Array.isArray(v) || isPlainObject(v)) this.rawInside(v, seen)
      }
    }
    return x
  }

  /** Save what a write of key `k` of `t` overwrites, once per object (and key) since the last mark. */
  private save(t: Obj, k: PropertyKey, deleting: boolean): void {
    let e = this.seen.get(t)
    if (e === undefined) {
      e = Array.isArray(t) ? {kind: 'array', target: t, copy: t.slice()} : {kind: 'object', target: t, saved: new Map()}
      this.seen.set(t, e)
      this.entries.push(e)
    }
    if (e.kind === 'array') return
    const had = Object.hasOwn(t, k)
    if (!e.saved.has(k)) e.saved.set(k, {had, value: t[k]})
    if (deleting && had && e.order === undefined) e.order = Reflect.ownKeys(t)
  }

  /** Record a change made outside the view (a whole new state, say) with the way to undo it. */
  onUndo(undo: () => void): void {
    this.entries.push({kind: 'other', undo})
  }

  /** Start a new group of writes (a change that may be undone alone); the position to undo to. */
  mark(): number {
    this.seen = new Map()
    this.mirrors = new Map()
    return this.entries.length
  }

  /** Undo the writes since position `to` (0: since the last commit), newest first. */
  undo(to = 0): void {
    for (let i = this.entries.length - 1; i >= to; i--) restore(this.entries[i])
    this.entries.length = to
    this.seen = new Map()
    this.mirrors = new Map()
  }

  /** Keep the writes so far: nothing before this point can be undone any more. */
  commit(): void {
    this.entries = []
    this.seen = new Map()
    this.mirrors = new Map()
  }

  /** Whether anything was written since the last commit. */
  get changed(): boolean {
    return this.entries.length > 0
  }
}

function restore(e: Entry): void {
  if (e.kind === 'other') return e.undo()
  if (e.kind === 'array') {
    const {target, copy} = e
    target.length = copy.length
    for (let i = 0; i < copy.length; i++) target[i] = copy[i]
    return
  }
  const t = e.target
  for (const [k, {had, value}] of e.saved)
    if (had) t[k] = value
    else delete t[k]
  if (e.order === undefined) return
  // A key deleted and put back went to the end: the keys again in their order.
  const keys = e.order.filter((k) => Object.hasOwn(t, k))
  const values = keys.map((k) => t[k])
  for (const k of Reflect.ownKeys(t)) delete t[k]
  keys.forEach((k, i) => (t[k] = values[i]))
}
