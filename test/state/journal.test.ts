// The journal of a state in memory (aplab batch, the library API): code
// that writes through its view sees what it would see on plain data, the
// data keeps no proxy, and undo puts the data back byte for byte (key order
// included), all of it or back to a mark. Random histories of writes over
// random plain data, against the same writes on a plain copy.
import {types} from 'node:util'

import {describe, expect, it} from 'vitest'

import {Journal} from '../../src/state/journal.js'
import * as store from '../../src/state/store.js'

/** An immutable value of a class, as the model's masks are: shared, never wrapped. */
class Val {
  constructor(readonly n: number) {}
  toJSON(): string {
    return `Val(${this.n})`
  }
}

type Rng = () => number
function rng(seed: number): Rng {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
const pickOr = <T>(r: Rng, xs: readonly T[], none: T): T => (xs.length === 0 ? none : pick(r, xs))
const KEYS = ['a', 'b', 'c', 'd', 'e', '0', '7', 'constructor', 'toString', '__x']

function value(r: Rng, depth: number): unknown {
  const k = r()
  if (depth <= 0 || k < 0.35) return pick(r, [1, 2, 'x', 'y', true, null, new Val(Math.floor(r() * 9))])
  if (k < 0.65) {
    const o: Record<string, unknown> = r() < 0.15 ? Object.create(null) : {}
    for (let i = Math.floor(r() * 4); i > 0; i--) o[pick(r, KEYS)] = value(r, depth - 1)
    return o
  }
  return Array.from({length: Math.floor(r() * 5)}, () => value(r, depth - 1))
}

const text = (x: unknown): string => JSON.stringify(x, (_k, v) => (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === null ? {'(bare)': {...v}} : v))
function copy(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || x instanceof Val) return x
  if (Array.isArray(x)) return x.map(copy)
  const o: Record<string, unknown> = Object.getPrototypeOf(x) === null ? Object.create(null) : {}
  for (const k of Object.keys(x)) o[k] = copy((x as Record<string, unknown>)[k])
  return o
}
function proxiesIn(x: unknown, seen = new Set<unknown>()): number {
  if (typeof x !== 'object' || x === null || seen.has(x)) return 0
  seen.add(x)
  if (types.isProxy(x)) return 1
  return Object.keys(x).reduce((n, k) => n + proxiesIn((x as Record<string, unknown>)[k], seen), 0)
}

type Node = Record<string, unknown> | unknown[]
/** A write, given as a path of keys and what to do there, so that it can be made on two roots. */
type Op = (root: Node) => void

/** The containers of a tree with their paths, parents first. */
function containers(root: Node): Array<{path: string[]; node: Node}> {
  const out: Array<{path: string[]; node: Node}> = []
  const walk = (n: Node, path: string[]): void => {
    out.push({path, node: n})
    for (const k of Object.keys(n)) {
      const v = (n as Record<string, unknown>)[k]
      if (typeof v === 'object' && v !== null && !(v instanceof Val)) walk(v as Node, [...path, k])
    }
  }
  walk(root, [])
  return out
}
const at = (root: Node, path: string[]): Node => path.reduce((n, k) => (n as Record<string, unknown>)[k] as Node, root)

function randomOp(r: Rng, root: Node): Op {
  const all = containers(root)
  const {path, node} = pick(r, all)
  const fresh = value(r, 2)
  // Another part of the tree, neither inside this one nor holding it, to move here.
  const prefix = (p: string[], q: string[]): boolean => p.length <= q.length && p.every((k, i) => q[i] === k)
  const other = pickOr(r, all.filter((c) => c.path.length > 0 && !prefix(c.path, path) && !prefix(path, c.path)), undefined)?.path
  const freshFn = (): unknown => copy(fresh)
  if (!Array.isArray(node)) {
    const key = pick(r, [...Object.keys(node), ...KEYS])
    const kind = pick(r, ['set', 'set', 'delete', 'move', 'wrap', 'assign'])
    if (kind === 'set') return (root) => void ((at(root, path) as Record<string, unknown>)[key] = freshFn())
    if (kind === 'delete') return (root) => void delete (at(root, path) as Record<string, unknown>)[key]
    if (kind === 'wrap' && other)
      // A part of the tree moved into a new object (a view in it, through the journal's root).
      return (root) => {
        const target = at(root, path) as Record<string, unknown>
        const parent = at(root, other.slice(0, -1)) as Record<string, unknown>
        const k = other[other.length - 1]
        const sub = parent[k]
        if (Array.isArray(parent)) parent.splice(Number(k), 1)
        else delete parent[k]
        target[key] = {inner: [sub], n: 1}
      }
    if (kind === 'assign') return (root) => void Object.assign(at(root, path), {[key]: freshFn(), z: 3})
    return (root) => {
      const from = at(root, path) as Record<string, unknown>
      const v = from[key]
      delete from[key]
      from[key] = v
    }
  }
  const i = Math.floor(r() * (node.length + 1))
  const kind = pick(r, ['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'index', 'length', 'forEach', 'forOf', 'filter', 'find'])
  const arr = (root: Node): unknown[] => at(root, path) as unknown[]
  switch (kind) {
    case 'push':
      return (root) => void arr(root).push(freshFn(), freshFn())
    case 'pop':
      return (root) => void arr(root).pop()
    case 'shift':
      return (root) => void arr(root).shift()
    case 'unshift':
      return (root) => void arr(root).unshift(freshFn())
    case 'splice':
      return (root) => void arr(root).splice(i, 1, freshFn())
    case 'sort':
      return (root) => void arr(root).sort((x, y) => text(x).localeCompare(text(y)))
    case 'reverse':
      return (root) => void arr(root).reverse()
    case 'index':
      return (root) => void (arr(root)[i] = freshFn())
    case 'length':
      return (root) => void (arr(root).length = Math.floor(i / 2))
    case 'forEach':
      // Writes into the elements and through the callback's array argument.
      return (root) =>
        arr(root).forEach((x, k, a) => {
          if (typeof x === 'object' && x !== null && !(x instanceof Val) && !Array.isArray(x)) (x as Record<string, unknown>).seen = k
          if (k === 0) a[a.length] = 'end'
        })
    case 'forOf':
      // Removing while iterating: the iteration sees what a plain array's would.
      return (root) => {
        const a = arr(root)
        let n = 0
        for (const x of a) {
          n++
          if (n % 2 === 1) a.splice(a.indexOf(x), 1)
        }
        a.push(n)
      }
    case 'filter':
      return (root) => {
        const parent = path.length === 0 ? undefined : (at(root, path.slice(0, -1)) as Record<string, unknown>)
        const kept = arr(root).filter((_x, k) => k % 2 === 0)
        if (parent) parent[path[path.length - 1]] = kept
      }
    default:
      return (root) => {
        const found = arr(root).find((x) => typeof x === 'object' && x !== null && !(x instanceof Val))
        if (found && !Array.isArray(found)) (found as Record<string, unknown>).found = true
        else if (Array.isArray(found)) found.push('found')
      }
  }
}

describe('Journal', () => {
  it('writes through the view as on plain data, keeps no proxy, and undoes all of it or back to a mark', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed)
      const data = {top: value(r, 4), list: [value(r, 3), value(r, 3)], n: 0} as Record<string, unknown>
      const plain = copy(data) as Node
      const before = text(data)
      const j = new Journal()
      const view = j.view(data)
      const ops = Array.from({length: 1 + Math.floor(r() * 12)}, () => {
        const op = randomOp(r, plain)
        op(plain) // on the plain copy, to pick the next ones over what it became
        return op
      })
      const half = Math.floor(ops.length / 2)
      const plainAtMark = copy(copy(data)) as Node
      for (const op of ops.slice(0, half)) op(plainAtMark)
      const mark0 = text(plainAtMark)
      j.mark()
      ops.slice(0, half).forEach((op) => op(view))
      expect(text(data), `seed ${seed}`).toBe(mark0)
      const mark = j.mark()
      ops.slice(half).forEach((op) => op(view))
      expect(text(data), `seed ${seed}`).toBe(text(plain))
      expect(proxiesIn(data), `seed ${seed}`).toBe(0)
      j.undo(mark)
      expect(text(data), `seed ${seed}`).toBe(mark0)
      j.undo()
      expect(text(data), `seed ${seed}`).toBe(before)
      expect(j.changed).toBe(false)
    }
  })

  it('keeps a commit: undo goes back no further', () => {
    const data = {hosts: [{name: 'a', mdevs: [{uuid: 'u1'}]}]}
    const j = new Journal()
    const v = j.view(data)
    v.hosts[0].mdevs.push({uuid: 'u2'})
    j.commit()
    v.hosts[0].mdevs.find((m) => m.uuid === 'u1')!.uuid = 'u9'
    delete (v.hosts[0] as {name?: string}).name
    j.undo()
    expect(data).toEqual({hosts: [{name: 'a', mdevs: [{uuid: 'u1'}, {uuid: 'u2'}]}]})
    expect(Object.keys(data.hosts[0])).toEqual(['name', 'mdevs'])
  })

  it('gives the same view of an object every time, and class instances as they are', () => {
    const mask = new Val(3)
    const data = {a: {b: 1}, m: mask, list: [{x: 1}]}
    const j = new Journal()
    const v = j.view(data)
    expect(v.a).toBe(v.a)
    expect(v.m).toBe(mask)
    expect(v.list.indexOf(v.list[0])).toBe(0)
    expect(v.list.includes(v.list.find((x) => x.x === 1)!)).toBe(true)
    expect([...v.list][0]).toBe(v.list[0])
    expect(j.view(v)).toBe(v)
    expect(Array.isArray(v.list)).toBe(true)
    expect(JSON.stringify(v)).toBe(JSON.stringify(data))
  })

  it('runs an undo given for a change made outside the view', () => {
    const j = new Journal()
    let root = 'old'
    j.onUndo(() => (root = 'old'))
    root = 'new'
    expect(j.changed).toBe(true)
    j.undo()
    expect(root).toBe('old')
  })
})

describe('a state held in memory (store sessions)', () => {
  const FILE = '/nonexistent/aplab-journal-test.yaml'
  const names = (s: store.Session) => s.world.hosts.map((h) => h.name).join(',')

  it('undoes a change that throws at once, and a failed line all of it, a whole new state included', async () => {
    const s = store.memorySession(FILE, store.newWorld('default', 'a'))
    const status = await store.inSession(s, async () => {
      await store.mutate(FILE, (w) => void (w.hosts[0].runtime.pollTimeout = 5))
      await expect(
        store.mutate(FILE, (w) => {
          w.hosts[0].runtime.modules.push('vfio_ap')
          throw new Error('refused')
        }),
      ).rejects.toThrow('refused')
      // What threw is undone; the change before it stays while the line runs on.
      expect(s.world.hosts[0].runtime.modules).not.toContain('vfio_ap')
      expect(s.world.hosts[0].runtime.pollTimeout).toBe(5)
      return 0
    })
    expect(status).toBe(0)
    expect(s.world.hosts[0].runtime.pollTimeout).toBe(5)
    const before = JSON.stringify(s.world)
    const old = s.world
    const failed = await store.inSession(s, async () => {
      await store.mutate(FILE, (w) => void w.hosts[0].runtime.offline.push('card05'))
      await store.replace(FILE, store.newWorld('default', 'b'), true)
      await store.mutate(FILE, (w) => void (w.hosts[0].runtime.pollTimeout = 7))
      expect(names(s)).toBe('b')
      return 1
    })
    expect(failed).toBe(1)
    expect(s.world).toBe(old)
    expect(JSON.stringify(s.world)).toBe(before)
    expect(names(s)).toBe('a')
  })
})

describe('settling the guests of a state in memory', () => {
  const FILE = '/nonexistent/aplab-settle-test.yaml'
  const U = '33333333-3333-4333-8333-333333333333'

  /** A default host with vfio_ap, an mdev of adapters 5 and 6, domain 4, open in a running guest. */
  async function withGuest() {
    const [{modprobe}, {hostVfs}, mdev, guest] = await Promise.all([
      import('../../src/core/modules.js'),
      import('../../src/sysfs/host.js'),
      import('../../src/cli/mdev.js'),
      import('../../src/cli/guest.js'),
    ])
    const world = store.newWorld()
    const host = world.hosts[0]
    modprobe(host, 'vfio_ap', false, 0)
    hostVfs(host, 0).write('/sys/bus/ap/apmask', '-5,-6\n')
    mdev.create(host, U, 0)
    mdev.change(host, U, {adapter: ['5', '6'], domain: ['4']}, false, 0)
    guest.start(world, host, 'g1', ['-cpu', 'host,ap=on,apqci=on,apft=on,apqi=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U},id=vfio0`], {libvirt: false, autostart: false, uid: 0})
    const g = host.guests[0]
    expect(g.running).toBe(true)
    // Records of the guest's kernel about card 0x05, which the next change takes out of its bus.
    g.runtime.offline.push('card05')
    g.runtime.counters['05.0004'] = {requests: 1}
    return {world, mdev}
  }
  const outsideGuestKernels = (w: import('../../src/core/model.js').World) => text({...w, hosts: w.hosts.map((h) => ({...h, guests: h.guests.map((g) => ({...g, runtime: null}))}))})

  it('changes only the running guests\' kernels (what the session copies before it settles)', async () => {
    const {world, mdev} = await withGuest()
    const {settleGuests} = await import('../../src/core/guest.js')
    mdev.change(world.hosts[0], U, {adapter: ['5']}, true, 0)
    const before = outsideGuestKernels(world)
    const kernel = text(world.hosts[0].guests[0].runtime)
    settleGuests(world)
    expect(text(world.hosts[0].guests[0].runtime)).not.toBe(kernel)
    expect(world.hosts[0].guests[0].runtime.offline).not.toContain('card05')
    expect(outsideGuestKernels(world)).toBe(before)
  })

  it('undoes what settling did with the rest of a failed line', async () => {
    const {world, mdev} = await withGuest()
    const {pickHost} = await import('../../src/cli/env.js')
    const s = store.memorySession(FILE, world)
    const before = text(world)
    const status = await store.inSession(s, async () => {
      await store.mutate(FILE, (w) => mdev.change(pickHost(w), U, {adapter: ['5']}, true, 0))
      expect(world.hosts[0].guests[0].runtime.offline).not.toContain('card05')
      return 1
    })
    expect(status).toBe(1)
    expect(text(world)).toBe(before)
    expect(world.hosts[0].guests[0].runtime.offline).toContain('card05')
  })

  it("undoes a failed line's own change of a running guest's kernel, settled after it (guest exec chzcrypt)", async () => {
    const {world} = await withGuest()
    const s = store.memorySession(FILE, world)
    const before = text(world)
    const status = await store.inSession(s, async () => {
      // What `aplab guest exec g1 -- chzcrypt -d 5 99` does before it fails on card 0x99.
      await store.mutate(FILE, (w) => {
        const rt = w.hosts[0].guests[0].runtime
        rt.offline.push('05.0004')
        rt.counters['05.0004'] = {requests: 2}
      })
      expect(world.hosts[0].guests[0].runtime.offline).toContain('05.0004')
      return 1
    })
    expect(status).toBe(1)
    expect(world.hosts[0].guests[0].runtime.offline).not.toContain('05.0004')
    expect(text(world)).toBe(before)
  })
})
