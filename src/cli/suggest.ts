// What `aplab` says for a command it does not have: the words the user typed
// up to the first one that names nothing (not the arguments after it), and
// the nearest command at that place, as git and gh suggest one.

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  return d[a.length][b.length]
}

/**
 * The unknown command in `args` (spaces between its words) given the
 * command ids (colon-separated), and the closest existing command at the
 * same level: same topic, at most a third of the word's letters (at least
 * one) edited.
 */
export function unknownCommand(args: readonly string[], ids: readonly string[]): {typed: string; suggestion?: string} {
  const words = args.slice(0, Math.max(1, args.findIndex((a) => a.startsWith('-')) === -1 ? args.length : args.findIndex((a) => a.startsWith('-'))))
  const known = (w: string[]) => ids.some((id) => id === w.join(':') || id.startsWith(w.join(':') + ':'))
  let k = 0
  while (k < words.length && known(words.slice(0, k + 1))) k++
  const typed = words.slice(0, k + 1)
  const topic = words.slice(0, k).join(':')
  const level = new Set(
    ids
      .filter((id) => (topic === '' ? true : id.startsWith(topic + ':')))
      .map((id) => id.split(':')[k])
      .filter((w): w is string => w !== undefined),
  )
  const word = typed[typed.length - 1] ?? ''
  let best: {w: string; d: number} | undefined
  for (const w of [...level].sort()) {
    const d = editDistance(word, w)
    if (d <= Math.max(1, Math.floor(word.length / 3)) && (!best || d < best.d)) best = {w, d}
  }
  return {typed: typed.join(' '), ...(best && {suggestion: [...words.slice(0, k), best.w].join(' ')})}
}
