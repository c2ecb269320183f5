// Lint the manual pages in man/: `mandoc -Tlint -W warning` must accept
// every page without a message, and, where groff is installed,
// `groff -man -ww -z` must not warn either. Exits 1 on any problem.
//
// Without mandoc the lint fails, unless SKIP_MAN_LINT=1 says to skip it.
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const manDir = join(root, 'man')

/** Run a command; null when it is not installed. */
function run(cmd, args) {
  const r = spawnSync(cmd, args, {encoding: 'utf8'})
  if (r.error) {
    if (r.error.code === 'ENOENT') return null
    throw r.error
  }
  return r
}

const pages = readdirSync(manDir, {withFileTypes: true})
  .filter((e) => e.isFile() && /\.[1-9][a-z]*$/.test(e.name))
  .map((e) => join(manDir, e.name))
  .sort()

if (pages.length === 0) {
  console.error(`lint-man: no manual pages in ${relative(process.cwd(), manDir) || '.'}`)
  process.exit(1)
}

if (run('mandoc', ['-Tlint', '-W', 'warning', '/dev/null']) === null) {
  if (process.env.SKIP_MAN_LINT === '1') {
    console.error('lint-man: mandoc is not installed; skipping the manual page lint (SKIP_MAN_LINT=1)')
    process.exit(0)
  }
  console.error('lint-man: mandoc is not installed (apt-get install mandoc); set SKIP_MAN_LINT=1 to skip this check')
  process.exit(1)
}

let problems = 0

function report(tool, page, r, output) {
  const name = relative(root, page)
  if (r.status === 0 && output.trim() === '') return
  problems++
  console.error(`lint-man: ${tool} ${r.status === 0 ? 'complains about' : `exits ${r.status ?? r.signal} on`} ${name}`)
  if (output.trim() !== '') process.stderr.write(output.endsWith('\n') ? output : output + '\n')
}

for (const page of pages) {
  const r = run('mandoc', ['-Tlint', '-W', 'warning', page])
  report('mandoc -Tlint -W warning', page, r, r.stdout + r.stderr)
}

let groffChecked = false
for (const page of pages) {
  const r = run('groff', ['-man', '-ww', '-z', page])
  if (r === null) break
  groffChecked = true
  report('groff -man -ww -z', page, r, r.stderr)
}

if (problems > 0) {
  console.error(`lint-man: ${problems} problem(s)`)
  process.exit(1)
}
console.log(`lint-man: ${pages.length} page(s) clean (mandoc${groffChecked ? ', groff' : '; groff not installed, skipped'})`)
