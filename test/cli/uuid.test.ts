// New UUIDs (src/cli/uuid.ts): Web Crypto's, or Node's crypto module's where the global is off.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {newUuid} from '../../src/cli/uuid.js'

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('newUuid', () => {
  it('makes random version 4 UUIDs', () => {
    const a = newUuid()
    expect(a).toMatch(V4)
    expect(newUuid()).not.toBe(a)
  })

  it('sets only the version and variant bits: every other digit takes many values', () => {
    const all = Array.from({length: 400}, newUuid)
    expect(new Set(all).size).toBe(all.length)
    for (const u of all) expect(u).toMatch(V4)
    const digits = all.map((u) => u.replace(/-/g, ''))
    for (let i = 0; i < 32; i++) {
      const seen = new Set(digits.map((d) => d[i])).size
      if (i === 12) expect(seen).toBe(1)
      else if (i === 16) expect(seen).toBe(4)
      else expect(seen, `digit ${i}`).toBeGreaterThan(8)
    }
  })

  it('makes them without the Web Crypto global too', () => {
    // A script file: node -e puts Node's crypto module in the global's place.
    const dir = mkdtempSync(join(tmpdir(), 'aplab-uuid-'))
    const script = join(dir, 'new-uuid.mjs')
    writeFileSync(script, `const m = await import(${JSON.stringify(join(import.meta.dirname, '..', '..', 'dist', 'cli', 'uuid.js'))})\nprocess.stdout.write(String(globalThis.crypto) + ' ' + m.newUuid())\n`)
    let out: string
    try {
      out = execFileSync(process.execPath, ['--no-experimental-global-webcrypto', script], {encoding: 'utf8'})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
    const [global, uuid] = out.split(' ')
    expect(global).toBe('undefined')
    expect(uuid).toMatch(V4)
  })
})
