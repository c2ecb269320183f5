// npm run bench: the cost of the hot commands as a ratio against `node -e 0`,
// measured in the same run with interleaved repetitions, on the default host
// and on the big host of issue 12 (the max preset with 1,000 mdevs defined
// and started and 100 guests running, built in-process by scripts/bighost.mjs),
// with the peak RSS of each command (GNU time, where it is installed).
// Usage: node scripts/bench.mjs [RUNS]   (default 9)
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir, cpus} from 'node:os'
import {join, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 9)
const dir = mkdtempSync(join(tmpdir(), 'aplab-bench-'))
const node = process.execPath
const aplab = join(root, 'bin/aplab.js')
const tool = (name) => join(root, `bin/${name}.js`)
const states = {default: join(dir, 'default.yaml'), big: join(dir, 'big.yaml')}
// The temporary files go however the bench ends.
process.on('exit', () => rmSync(dir, {recursive: true, force: true}))
const envOf = (state) => ({...process.env, APLAB_STATE: state, APLAB_HOST: '', APLAB_UID: ''})

spawnSync(node, [aplab, 'init'], {env: envOf(states.default)})
{
  const t0 = performance.now()
  const {saveBigHost} = await import('./bighost.mjs')
  await saveBigHost(states.big, 1000, 100)
  console.log(`big host (max, 1,000 mdevs defined and started, 100 guests) built in-process in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}
// An mdev on both hosts that no guest has open, for the rows that name one (vfio_ap loaded on
// the default host for it): `mdevctl list -u` of an mdev the default host lacked printed nothing
// there, and ran no callout.
const MINE = 'c0ffee00-0000-4000-8000-00000000a551'
for (const state of Object.values(states))
  for (const argv of [[tool('modprobe'), 'vfio_ap'], [aplab, 'mdev', 'create', '-u', MINE]]) {
    const r = spawnSync(process.execPath, argv, {env: envOf(state)})
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).trim()}`)
  }
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null
const rssFile = join(dir, 'rss')

/** One timed run: wall ms and peak RSS in MB (null without GNU time). */
function once(argv, env) {
  const full = gnuTime ? [gnuTime, '-o', rssFile, '-f', '%M', ...argv] : argv
  const t0 = process.hrtime.bigint()
  const r = spawnSync(full[0], full.slice(1), {env, stdio: ['ignore', 'ignore', 'pipe']})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).trim()}`)
  const rss = gnuTime ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : null
  return {ms, rss}
}

// [name, argv, proportional]: proportional output grows with the host by nature.
// Per host, so that every call of a mutation changes what the one before it left.
const flip = {default: 0, big: 0}
const flop = {default: 0, big: 0}
const flap = {default: 0, big: 0}
const cases = [
  ['node -e 0', () => [node, '-e', '0']],
  ['lszcrypt -b', () => [node, tool('lszcrypt'), '-b']],
  ['lszcrypt -V (all queues)', () => [node, tool('lszcrypt'), '-V'], true],
  ['aplab sysfs cat /sys/bus/ap/apmask', () => [node, aplab, 'sysfs', 'cat', '/sys/bus/ap/apmask']],
  ['aplab sysfs write /sys/bus/ap/aqmask -0xfe', () => [node, aplab, 'sysfs', 'write', '/sys/bus/ap/aqmask', '-0xfe']],
  ['mutation: sysfs write poll_timeout', (h) => [node, aplab, 'sysfs', 'write', '/sys/bus/ap/poll_timeout', String(250000 + (flip[h]++ % 2) * 50000)]],
  // Each call a change the kernel's rules read: the bit of domain 0xfe given to and taken from vfio_ap.
  ['mutation the rules read: aqmask -0xfe, +0xfe', (h) => [node, aplab, 'sysfs', 'write', '/sys/bus/ap/aqmask', flop[h]++ % 2 ? '+0xfe' : '-0xfe']],
  ['aplab sysfs write /sys/bus/ap/apmask -5,-6', () => [node, aplab, 'sysfs', 'write', '/sys/bus/ap/apmask', '-5,-6']],
  ['chzcrypt -e 0', () => [node, tool('chzcrypt'), '-e', '0']],
  ['chzdev -t ap apmask=-0 -a', () => [node, tool('chzdev'), '-t', 'ap', 'apmask=-0', '-a']],
  ['modprobe vfio_ap', () => [node, tool('modprobe'), 'vfio_ap']],
  ['lsmod', () => [node, tool('lsmod')]],
  ['mdevctl list -u UUID', () => [node, tool('mdevctl'), 'list', '-u', MINE]],
  ['mdevctl list', () => [node, tool('mdevctl'), 'list'], true],
  ['lszdev -t ap', () => [node, tool('lszdev'), '-t', 'ap']],
  ['aplab host list', () => [node, aplab, 'host', 'list']],
  ['mutation: aplab mdev create (a new mdev each call)', () => [node, aplab, 'mdev', 'create']],
  ['mutation: aplab mdev assign, unassign (control domain 0x10)', (h) => [node, aplab, 'mdev', flap[h]++ % 2 ? 'unassign' : 'assign', MINE, '--control-domain', '0x10']],
  ['aplab mdev list', () => [node, aplab, 'mdev', 'list'], true],
  ['aplab guest list', () => [node, aplab, 'guest', 'list'], true],
  ['virsh list --all', () => [node, tool('virsh'), 'list', '--all'], true],
  ['aplab --help', () => [node, aplab, '--help']],
  ['aplab mdev assign --help', () => [node, aplab, 'mdev', 'assign', '--help']],
  ['aplab hw adapter (a topic alone)', () => [node, aplab, 'hw', 'adapter']],
]
const times = cases.map(() => ({default: [], big: []}))
const peaks = cases.map(() => ({default: 0, big: 0}))
for (let i = 0; i < runs; i++)
  cases.forEach(([, argv], k) => {
    for (const h of ['default', 'big']) {
      const r = once(argv(h), envOf(states[h]))
      times[k][h].push(r.ms)
      if (r.rss !== null) peaks[k][h] = Math.max(peaks[k][h], r.rss)
    }
  })

// A batch of 1,000 mdev create and 1,000 mdev assign, on a default host with vfio_ap loaded.
const batchTimes = []
{
  const u = (i) => `c0ffee00-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
  let script = ''
  for (let i = 0; i < 1000; i++) script += `aplab mdev create -u ${u(i)}\n`
  for (let i = 0; i < 1000; i++) script += `aplab mdev assign ${u(i)} --control-domain ${i % 16}\n`
  writeFileSync(join(dir, 'script'), script)
  for (let i = 0; i < 3; i++) {
    const state = join(dir, `batch${i}.yaml`)
    spawnSync(node, [aplab, 'init'], {env: envOf(state)})
    spawnSync(node, [aplab, 'modprobe', 'vfio_ap'], {env: envOf(state)})
    batchTimes.push(once([node, aplab, 'batch', join(dir, 'script')], envOf(state)).ms)
  }
}
rmSync(dir, {recursive: true, force: true})

const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)]
const base = median(times[0].default)
console.log(`${runs} interleaved runs, median wall time; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`)
console.log('')
console.log('| command | default ms | x node -e 0 | big ms | x node -e 0 | big / default | peak RSS MB (default / big) |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
cases.forEach(([name, , proportional], k) => {
  const d = median(times[k].default)
  const b = median(times[k].big)
  const rss = gnuTime ? `${peaks[k].default.toFixed(0)} / ${peaks[k].big.toFixed(0)}` : '-'
  console.log(`| ${name}${proportional ? ' (output grows with the host)' : ''} | ${d.toFixed(0)} | ${(d / base).toFixed(2)} | ${b.toFixed(0)} | ${(b / base).toFixed(2)} | ${(b / d).toFixed(2)} | ${rss} |`)
})
console.log(`| aplab batch: 1,000 mdev create + 1,000 mdev assign (default host, 3 runs) | ${median(batchTimes).toFixed(0)} | ${(median(batchTimes) / base).toFixed(1)} | | | | |`)
console.log('')

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
