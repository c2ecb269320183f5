#!/usr/bin/env node
// npm run soak: the isolation property over many random histories, then
// concurrent writers (the built binaries) against one state, killed with
// SIGKILL at random moments, and a check that no update was lost.
//
//   npm run soak [-- --histories N] [--seed S] [--chunks K] [--writers W] [--commands C] [--kill P] [--yaml-every-step]
//
// Defaults: 10,000 histories ($APLAB_SOAK_HISTORIES), a random seed
// ($APLAB_SOAK_SEED), histories of up to 25 chunks (a step, or a few that set
// up pass-through or a migration), 32 writers, 320 commands, a kill for 15% of them.
// Run `node scripts/build.mjs` first: the writers run bin/aplab.js and
// bin/mdevctl.js. Everything goes in one temporary directory, removed at
// the end. Exit status 1 when a check fails.

import {spawn} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Where the writers' binaries are: a copy of the build, so that a rebuild meanwhile cannot disturb them. */
let app = root

const {values: opt} = parseArgs({
  options: {
    histories: {type: 'string', default: process.env.APLAB_SOAK_HISTORIES ?? '10000'},
    seed: {type: 'string', default: process.env.APLAB_SOAK_SEED},
    chunks: {type: 'string', default: '25'},
    writers: {type: 'string', default: '32'},
    commands: {type: 'string', default: '320'},
    kill: {type: 'string', default: '0.15'},
    'yaml-every-step': {type: 'boolean', default: false},
  },
})
const count = (name, min = 0) => {
  const n = Number(opt[name])
  if (!Number.isInteger(n) || n < min) {
    console.error(`soak: --${name} takes a whole number of at least ${min}, not '${opt[name]}'`)
    process.exit(2)
  }
  return n
}
const histories = count('histories')
const chunks = count('chunks', 1)
const writers = count('writers', 1)
const commands = count('commands')
const killShare = Number(opt.kill)
if (!(killShare >= 0 && killShare <= 1)) {
  console.error(`soak: --kill takes a share between 0 and 1, not '${opt.kill}'`)
  process.exit(2)
}
const seed = opt.seed === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(opt.seed)
if (!Number.isInteger(seed)) {
  console.error(`soak: --seed takes an integer, not '${opt.seed}'`)
  process.exit(2)
}

const tmp = mkdtempSync(join(tmpdir(), 'aplab-soak-'))
let failed = false
const fail = (msg) => {
  failed = true
  console.log(`FAIL ${msg}`)
}
const removeTmp = () => rmSync(tmp, {recursive: true, force: true})
process.on('SIGINT', () => {
  removeTmp()
  process.exit(130)
})

try {
  if (histories > 0) await soakHistories()
  if (commands > 0) await soakWriters()
} finally {
  removeTmp()
}
process.exit(failed ? 1 : 0)

// --- the property ------------------------------------------------------------------

async function soakHistories() {
  // The property lives in TypeScript beside the test; bundle it to run it here.
  const {build} = await import('esbuild')
  const out = join(tmp, 'soak-histories.mjs')
  await build({
    entryPoints: [join(root, 'test/property/soak.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: {js: "import {createRequire as __soakRequire} from 'node:module'; const require = __soakRequire(import.meta.url);"},
    logLevel: 'warning',
  })
  console.log(`histories: ${histories} of up to ${chunks} chunks, seed ${seed}${opt['yaml-every-step'] ? ', the YAML round trip after every step' : ''}`)
  const t0 = Date.now()
  const {soakHistories: run} = await import(pathToFileURL(out).href)
  const r = await run(histories, seed, {
    yamlEveryStep: opt['yaml-every-step'],
    maxChunks: chunks,
    progress: (s) => console.log(`  ${s.histories} histories, ${s.steps} steps, ${Math.round((Date.now() - t0) / 1000)} s`),
  })
  const s = r.stats
  console.log(`  histories run: ${s.histories} (with those shrinking runs again), steps: ${s.steps}, in ${Math.round((Date.now() - t0) / 1000)} s`)
  console.log(`  outcomes: ${Object.entries(s.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  console.log(`  hand edits: ${s.editsRefused} refused by the loader, ${s.editsTaken} taken; most APQNs held by guests on one host: ${s.maxGuestApqns}`)
  console.log(`  by step: ${Object.entries(s.byKind).sort().map(([k, v]) => `${k} ${Object.entries(v).map(([o, n]) => `${o} ${n}`).join('/')}`).join('; ')}`)
  if (r.failure) fail(`the property failed (seed ${r.seed}):\n${r.failure}`)
  else console.log('  ok: the invariant held after every step')
}

// --- concurrent writers ------------------------------------------------------------------

function runCommand(bin, args, env, killAfter) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(app, 'bin', bin), ...args], {env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    let killed = false
    const timers = []
    if (killAfter !== null)
      timers.push(
        setTimeout(() => {
          killed = child.kill('SIGKILL')
        }, killAfter),
      )
    // A command still running after two minutes hangs.
    let hung = false
    timers.push(
      setTimeout(() => {
        hung = true
        child.kill('SIGKILL')
      }, 120_000),
    )
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t)
      resolve({code, signal, killed: killed && signal === 'SIGKILL', hung, out, err})
    })
  })
}

async function soakWriters() {
  if (!existsSync(join(root, 'dist', 'main.cjs')) || !existsSync(join(root, 'dist', 'commands.cjs'))) {
    fail('dist/ is missing: run node scripts/build.mjs first')
    return
  }
  app = join(tmp, 'app')
  for (const f of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) cpSync(join(root, f), join(app, f), {recursive: true})
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'))
  const dir = join(tmp, 'state')
  mkdirSync(dir)
  const state = join(dir, 'state.yaml')
  const env = {...process.env, APLAB_STATE: state, APLAB_UID: ''}
  delete env.APLAB_HOST
  const init = await runCommand('aplab.js', ['--state', state, 'init', '--preset', 'vfio-ap-doc'], env, null)
  if (init.code !== 0) return fail(`aplab init: ${init.err}`)
  const scans0 = Number((await runCommand('aplab.js', ['--state', state, 'sysfs', 'cat', '/sys/bus/ap/scans'], env, null)).out)

  // Each writer uses its own UUIDs, so every success can be checked afterwards.
  const uuid = (w, n, kind) => `${kind}${w.toString(16).padStart(7, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
  const created = new Map() // uuid -> 'ok' | 'unknown'
  const removed = new Map()
  const defined = new Map()
  const tally = {ok: 0, failed: 0, killed: 0, hung: 0}
  let scansOk = 0
  let scansUnknown = 0
  const failures = []
  let next = 0
  let typicalMs = 1000
  let reads = 0
  console.log(`writers: ${writers} at once, ${commands} commands, about ${Math.round(killShare * 100)}% killed with SIGKILL at a random moment`)
  const t0 = Date.now()

  async function writer(w) {
    let n = 0
    const mine = []
    while (next < commands) {
      next++
      const pick = Math.random()
      let cmd
      if (pick < 0.1) {
        // A reader takes no lock: it must never find a half-written state.
        cmd = {bin: 'lszcrypt.js', args: ['-V'], reader: true, done: (r) => r === 'ok' && reads++}
      } else if (pick < 0.5) {
        const u = uuid(w, n++, 'a')
        cmd = {bin: 'aplab.js', args: ['--state', state, 'mdev', 'create', '--uuid', u], done: (r) => (created.set(u, r), r === 'ok' && mine.push(u))}
      } else if (pick < 0.62) {
        const u = uuid(w, n++, 'd')
        cmd = {bin: 'mdevctl.js', args: ['define', '-u', u, '-p', 'matrix', '-t', 'vfio_ap-passthrough'], done: (r) => defined.set(u, r)}
      } else if (pick < 0.85 || mine.length === 0) {
        cmd = {bin: 'aplab.js', args: ['--state', state, 'sysfs', 'write', '/sys/bus/ap/scans', '1'], done: (r) => (r === 'ok' ? scansOk++ : r === 'unknown' && scansUnknown++)}
      } else {
        const u = mine.splice(Math.floor(Math.random() * mine.length), 1)[0]
        cmd = {bin: 'aplab.js', args: ['--state', state, 'mdev', 'remove', u], done: (r) => removed.set(u, r)}
      }
      // A random moment of a command's life: up to one and a half times how long commands take now.
      const killAfter = Math.random() < killShare ? Math.floor(Math.random() * 1.5 * typicalMs) : null
      const t = Date.now()
      const r = await runCommand(cmd.bin, cmd.args, env, killAfter)
      if (!r.killed && !r.hung) typicalMs = 0.9 * typicalMs + 0.1 * (Date.now() - t)
      if (r.hung) {
        tally.hung++
        failures.push(`hung for two minutes: ${cmd.bin} ${cmd.args.join(' ')}`)
        cmd.done('unknown')
      } else if (r.killed) {
        tally.killed++
        cmd.done('unknown')
      } else if (r.code === 0) {
        tally.ok++
        cmd.done('ok')
      } else {
        tally.failed++
        // A refusal changed nothing; anything else than a clear one-line message is a failure, and so is a reader's.
        if (cmd.reader || /internal error|\n\s+at /.test(r.err) || r.signal) failures.push(`${cmd.bin} ${cmd.args.join(' ')} (exit ${r.code ?? r.signal}): ${r.err.trim()}`)
        cmd.done('failed')
      }
    }
  }
  await Promise.all(Array.from({length: writers}, (_, w) => writer(w)))
  console.log(`  commands: ${tally.ok} exited 0, ${tally.failed} refused, ${tally.killed} killed, ${tally.hung} hung, in ${Math.round((Date.now() - t0) / 1000)} s`)
  for (const f of failures.slice(0, 10)) fail(f)

  // The state file after it all: valid, and every change reported done is in it.
  const check = await runCommand('aplab.js', ['--state', state, 'state', 'check'], env, null)
  if (check.code !== 0) fail(`aplab state check (exit ${check.code}): ${(check.out + check.err).trim()}`)
  const list = await runCommand('aplab.js', ['--state', state, 'mdev', 'list', '--json'], env, null)
  let rows = []
  try {
    rows = JSON.parse(list.out)
  } catch {
    return fail(`aplab mdev list --json (exit ${list.code}) does not print JSON: ${(list.out + list.err).trim()}`)
  }
  const active = new Set(rows.filter((r) => r.active).map((r) => r.uuid))
  const def = new Set(rows.filter((r) => r.defined).map((r) => r.uuid))
  const lost = []
  const ghost = []
  for (const [u, r] of created) {
    const rm = removed.get(u)
    if (r === 'ok' && rm !== 'ok' && rm !== 'unknown' && !active.has(u)) lost.push(`mdev create ${u}`)
    if (r === 'failed' && active.has(u)) ghost.push(`mdev create ${u} (refused, yet there)`)
  }
  for (const [u, r] of removed) if (r === 'ok' && active.has(u)) lost.push(`mdev remove ${u}`)
  for (const [u, r] of defined) {
    if (r === 'ok' && !def.has(u)) lost.push(`mdevctl define ${u}`)
    if (r === 'failed' && def.has(u)) ghost.push(`mdevctl define ${u} (refused, yet there)`)
  }
  for (const u of active) if (!created.has(u)) ghost.push(`mdev ${u} that no command created`)
  const scans = Number((await runCommand('aplab.js', ['--state', state, 'sysfs', 'cat', '/sys/bus/ap/scans'], env, null)).out)
  const delta = scans - scans0
  if (delta < scansOk) lost.push(`${scansOk - delta} of ${scansOk} scans writes`)
  if (delta > scansOk + scansUnknown) ghost.push(`${delta - scansOk - scansUnknown} scans writes more than were made`)
  const okCount = (m) => [...m.values()].filter((r) => r === 'ok').length
  console.log(
    `  reported done: ${okCount(created)} mdev creates, ${okCount(removed)} removes, ${okCount(defined)} mdevctl defines, ${scansOk} scans writes (the counter moved by ${delta}, ${scansUnknown} writes were killed); ${reads} lszcrypt runs read the state meanwhile`,
  )
  console.log(`  lost updates: ${lost.length}; changes nobody reported: ${ghost.length}`)
  for (const l of lost.slice(0, 10)) fail(`lost: ${l}`)
  for (const g of ghost.slice(0, 10)) fail(`not made by a command that said so: ${g}`)
  const left = readdirSync(dir).filter((f) => f !== 'state.yaml' && f !== '.state.yaml.cache')
  console.log(`  left beside the state by killed commands: ${left.length ? left.join(', ') : 'nothing'}`)
  if (!failed) console.log('  ok: the state is valid and no update was lost')
}
