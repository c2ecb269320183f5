// npm run bench: start-up cost of the hot commands as a ratio against
// `node -e 0`, measured in the same run with interleaved repetitions.
// Usage: node scripts/bench.mjs [RUNS]   (default 21)
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 21)
const dir = mkdtempSync(join(tmpdir(), 'aplab-bench-'))
const env = {...process.env, APLAB_STATE: join(dir, 'state.yaml')}
const node = process.execPath

spawnSync(node, [join(root, 'bin/aplab.js'), 'init'], {env})

const cases = [
  ['node -e 0', [node, '-e', '0']],
  ['lszcrypt -V', [node, join(root, 'bin/lszcrypt.js'), '-V']],
  ['aplab sysfs cat /sys/bus/ap/apmask', [node, join(root, 'bin/aplab.js'), 'sysfs', 'cat', '/sys/bus/ap/apmask']],
  ['mdevctl list', [node, join(root, 'bin/mdevctl.js'), 'list']],
  ['lszdev -t ap', [node, join(root, 'bin/lszdev.js'), '-t', 'ap']],
  ['aplab guest list (oclif)', [node, join(root, 'bin/aplab.js'), 'guest', 'list']],
]
const times = cases.map(() => [])
for (let i = 0; i < runs; i++)
  cases.forEach(([, argv], k) => {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(argv[0], argv.slice(1), {env, stdio: 'ignore'})
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`)
    times[k].push(Number(process.hrtime.bigint() - t0) / 1e6)
  })
rmSync(dir, {recursive: true, force: true})

const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)]
const base = median(times[0])
console.log(`${runs} interleaved runs, median wall time`)
cases.forEach(([name], k) => {
  const m = median(times[k])
  console.log(`${name.padEnd(38)} ${m.toFixed(1).padStart(7)} ms  ${(m / base).toFixed(2)}x`)
})

// Reading one attribute through `aplab mount` (FUSE): `cat` of a sysfs
// attribute of the mount against `cat` of an ordinary file, interleaved.
// Skipped, with the reason, where FUSE cannot run.
{
  const {spawn} = await import('node:child_process')
  const {mkdirSync, writeFileSync, readFileSync, existsSync} = await import('node:fs')
  const live = mkdtempSync(join(tmpdir(), 'aplab-bench-'))
  const liveEnv = {...process.env, APLAB_STATE: join(live, 'state.yaml')}
  const mnt = join(live, 'mnt')
  mkdirSync(mnt)
  writeFileSync(join(live, 'plain'), '0x' + 'f'.repeat(64) + '\n')
  spawnSync(node, [join(root, 'bin/aplab.js'), 'init'], {env: liveEnv})
  const server = spawn(node, [join(root, 'bin/aplab.js'), 'mount', mnt], {env: liveEnv, stdio: ['ignore', 'pipe', 'pipe']})
  let err = ''
  server.stderr.on('data', (d) => (err += d))
  const up = await new Promise((resolve) => {
    server.stdout.on('data', (d) => String(d).includes('mounted on') && resolve(true))
    server.on('exit', () => resolve(false))
  })
  const attr = join(mnt, 'sys/bus/ap/apmask')
  if (!up || !existsSync(attr)) console.log(`cat through aplab mount: skipped (${err.trim() || 'the mount did not come up'})`)
  else {
    const catTimes = [[], []]
    for (let i = 0; i < runs; i++)
      [join(live, 'plain'), attr].forEach((f, k) => {
        const t0 = process.hrtime.bigint()
        spawnSync('cat', [f], {stdio: 'ignore'})
        catTimes[k].push(Number(process.hrtime.bigint() - t0) / 1e6)
      })
    const plain = median(catTimes[0])
    const fuse = median(catTimes[1])
    console.log(`${'cat an ordinary file'.padEnd(38)} ${plain.toFixed(1).padStart(7)} ms`)
    console.log(`${'cat through aplab mount (apmask)'.padEnd(38)} ${fuse.toFixed(1).padStart(7)} ms  ${fuse - plain >= 0 ? '+' : ''}${(fuse - plain).toFixed(1)} ms per read`)
    if (readFileSync(attr, 'utf8') !== readFileSync(join(live, 'plain'), 'utf8')) throw new Error('the mount read a different apmask')
  }
  server.kill('SIGTERM')
  await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.on('exit', resolve)))
  rmSync(live, {recursive: true, force: true})
}
