// Lookup tables for keys that come from user text (option names, device
// properties, JSON keys, file names): objects without a prototype, so that
// `constructor`, `__proto__` or `hasOwnProperty` find only what was put in.

/** A new table without a prototype, optionally filled from entries. */
export function table<V>(entries: Iterable<readonly [string, V]> | Record<string, V> = []): Record<string, V> {
  const t = Object.create(null) as Record<string, V>
  const list = Symbol.iterator in entries ? (entries as Iterable<readonly [string, V]>) : Object.entries(entries)
  for (const [k, v] of list) t[k] = v
  return t
}

/** The value stored under `key` itself, never one inherited from a prototype. */
export function own<V>(t: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(t, key) ? t[key] : undefined
}
