// Build: compile TypeScript to dist/ and write oclif.manifest.json, so a
// fresh `npm ci` leaves working binaries. No bundler, no network.
import {execFileSync, spawnSync} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), {recursive: true, force: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})

// The binaries run from esbuild bundles, so that a call compiles one file
// instead of resolving hundreds (oclif.md section 2), each loaded by
// bin/bundles.cjs with V8's code cache:
// - main.cjs: the dispatcher and the mirrored tools, which never load oclif;
// - commands.cjs: oclif's explicit command table with @oclif/core inside,
//   loaded by the dispatcher only for a command that goes through oclif;
// - libvirt.cjs: virsh (libvirt's XML with fast-xml-parser), loaded only by it.
// A module the second or third needs that the first has (the state, the
// core, the tools, yaml) is not bundled again: they take main's, which holds
// those modules ready to be initialised on demand (main.cjs __shared), so a
// process has one copy of each. CommonJS because Node 20 caches compiled code
// only for scripts (vm.Script's cachedData), not for ES modules.
const {build} = await import('esbuild')
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // oclif reads a tsconfig with TypeScript only in development; never bundle it.
  external: ['typescript', 'ts-node', '../bin/bundles.cjs'],
  // import.meta.url of the bundled modules is the bundle's own file.
  define: {'import.meta.url': '__aplabUrl', __APLAB_BUNDLE: 'true'},
  // The file is the function bin/bundles.cjs compiles and calls (as Node wraps
  // a CommonJS module), so that loading it makes no second copy of its text.
  banner: {js: "(function (exports, require, module, __filename, __dirname) {const __aplabUrl = require('node:url').pathToFileURL(__filename).href;"},
  footer: {js: '})'},
  // import() as require: no ES module loader in a call (and none is needed:
  // oclif's command table is CommonJS, dist/commands.target.cjs).
  supported: {'dynamic-import': false},
  // Less to read at every call; names stay (error classes are told apart by them).
  minifyWhitespace: !process.env.NOMIN,
  minifySyntax: !process.env.NOMIN,
  logLevel: 'warning',
}
/** Another bundle, reached at run time through bin/bundles.cjs (one instance per process). */
const elsewhere = (pattern, bundle) => ({
  name: `${bundle}-outside`,
  setup(b) {
    b.onResolve({filter: pattern}, () => ({path: bundle, namespace: 'bundle'}))
    b.onLoad({filter: /.*/, namespace: 'bundle'}, (a) => ({contents: `module.exports = require('../bin/bundles.cjs').load(${JSON.stringify(a.path)})`, loader: 'js'}))
  },
})
// The libraries a call seldom runs are bundles of their own, loaded when first
// asked for: yaml parses a state only without its cache (a hand edit) and
// writes only what the state's writer cannot say; fast-xml-parser is for
// virsh's XML. In main.cjs they were a third of what every call read.
const LIBS = [['yaml', 'yaml'], ['fast-xml-parser', 'xml']]
const libs = LIBS.map(([pkg, bundle]) => elsewhere(new RegExp(`^${pkg}$`), bundle))
const toMain = [elsewhere(/^\.\.\/commands\.js$/, 'commands'), elsewhere(/^\.\.\/libvirt\/run\.js$/, 'libvirt'), elsewhere(/^\.\/oclif-help\.js$/, 'help'), ...libs]
/** The modules (paths from the root) an entry's bundle holds, with the modules each imports. */
async function modulesOf(entry, plugins = []) {
  const r = await build({...common, entryPoints: [entry], outfile: join(root, 'dist/graph.cjs'), write: false, metafile: true, plugins})
  return new Map(Object.entries(r.metafile.inputs).map(([p, i]) => [p, i.imports.map((x) => x.path)]))
}
const mainModules = await modulesOf('src/cli/main.ts', toMain)
const others = await Promise.all([modulesOf('src/commands.ts'), modulesOf('src/libvirt/run.ts'), modulesOf('src/cli/oclif-help.ts')])
// Taken from main: what main has and another bundle imports from one of its own modules.
const shared = [
  ...new Set(others.flatMap((m) => [...m].filter(([p]) => !mainModules.has(p)).flatMap(([, imports]) => imports.filter((i) => i.startsWith('src/') && mainModules.has(i))))),
].sort()
// The dispatcher tells a command's words from a topic's without loading the
// command table (src/cli/main.ts commandId): the table's ids and whether each
// takes arguments, from the table tsc has just compiled.
const {COMMANDS} = await import(pathToFileURL(join(root, 'dist/commands.js')).href)
const {commandShapes} = await import(pathToFileURL(join(root, 'dist/cli/main.js')).href)
await build({
  ...common,
  define: {...common.define, __APLAB_COMMANDS: JSON.stringify(commandShapes(COMMANDS))},
  stdin: {
    contents: [
      "export * from './src/cli/main.ts'",
      '// What the other bundles take from this one, each initialised when first asked for.',
      'export const __shared = {',
      ...shared.map((p) => `  ${JSON.stringify(p)}: () => require(${JSON.stringify('./' + p)}),`),
      '}',
      '',
    ].join('\n'),
    resolveDir: root,
    sourcefile: 'main-entry.js',
    loader: 'js',
  },
  outfile: join(root, 'dist/main.cjs'),
  plugins: toMain,
})
/**
 * `import * as fs from 'node:fs'` as the module itself: esbuild wraps a
 * namespace import of a builtin in __toESM, which copies every export of
 * the builtin (a getter each, fs has over a hundred) once per importing
 * module, a few tenths of a millisecond of every call. The source only reads
 * the builtins' exports by name (never `.default`, checked here), which the
 * module itself gives as they are.
 */
function plainBuiltins(file) {
  const text = readFileSync(file, 'utf8')
  const plain = text.replace(/(?<=[\s,;(]|^)([\w$]+)(\s*=\s*)__toESM\(require\("(node:[\w/]+)"\),\s*1\)/g, (all, name, eq, mod) => {
    if (name.startsWith('import_') || new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}\\.default\\b`).test(text)) return all
    return `${name}${eq}require("${mod}")`
  })
  writeFileSync(file, plain)
}
// A shared module is handed out as its namespace object itself: esbuild's
// require() of it made a copy with a getter per export at every stub (the
// copying showed in a virsh call's profile), and the stubs only read names.
{
  const file = join(root, 'dist/main.cjs')
  const text = readFileSync(file, 'utf8')
  let handed = 0
  const direct = text.replace(/("src\/[^"]+\.ts":\s*\(\)\s*=>\s*\(init_[\w$]+\(\),\s*)__toCommonJS\(([\w$]+)\)\)/g, (_, head, ns) => (handed++, `${head}${ns})`))
  if (handed !== shared.length) throw new Error(`main.cjs: ${handed} of the ${shared.length} shared modules found in __shared`)
  writeFileSync(file, direct)
}
/**
 * The runtime exports of each module taken from main (tsc's output of it):
 * the stub of a module names them, so that the modules importing it read
 * them as an ES module's. A stub that was a CommonJS module made each
 * importer copy all its exports (esbuild's __toESM), so often that V8
 * optimized the copying in every call (4 MB). The modules export no `let`:
 * a value taken once is the value.
 */
const exportsOf = new Map(
  await Promise.all(shared.map(async (p) => [p, Object.keys(await import(pathToFileURL(join(root, 'dist', p.replace(/^src\//, '').replace(/\.ts$/, '.js'))).href))])),
)
for (const p of shared)
  if (/^export (let|var) /m.test(readFileSync(join(root, p), 'utf8'))) throw new Error(`${p} exports a variable: its stub in the other bundles would keep its first value`)
/** A module main.cjs has: taken from it (main-entry.js __shared). */
const fromMain = {
  name: 'from-main',
  setup(b) {
    b.onResolve({filter: /^\.\.?\//}, (a) => {
      const p = relative(root, resolve(a.resolveDir, a.path)).replace(/\.js$/, '.ts')
      return shared.includes(p) ? {path: p, namespace: 'main'} : undefined
    })
    b.onLoad({filter: /.*/, namespace: 'main'}, (a) => {
      const names = exportsOf.get(a.path)
      const named = names.filter((n) => n !== 'default')
      return {
        contents: [
          `const m = require('../bin/bundles.cjs').load('main').__shared[${JSON.stringify(a.path)}]()`,
          named.length > 0 ? `export const {${named.join(', ')}} = m` : '',
          names.includes('default') ? 'export default m.default' : '',
        ].join('\n'),
        loader: 'js',
      }
    })
  },
}
await build({...common, entryPoints: ['src/commands.ts'], outfile: join(root, 'dist/commands.cjs'), plugins: [fromMain, ...libs]})
await build({...common, entryPoints: ['src/libvirt/run.ts'], outfile: join(root, 'dist/libvirt.cjs'), plugins: [fromMain, ...libs]})
await build({...common, entryPoints: ['src/cli/oclif-help.ts'], outfile: join(root, 'dist/help.cjs'), plugins: [fromMain, ...libs]})
for (const [pkg, bundle] of LIBS)
  await build({
    ...common,
    stdin: {contents: `module.exports = require(${JSON.stringify(pkg)})`, resolveDir: root, sourcefile: `${bundle}-entry.js`, loader: 'js'},
    outfile: join(root, `dist/${bundle}.cjs`),
  })
for (const b of ['main', 'commands', 'libvirt', 'help']) plainBuiltins(join(root, `dist/${b}.cjs`))
// The target oclif loads (package.json oclif.commands), with require for a
// .cjs file: the command table of the instance the dispatcher loaded.
writeFileSync(
  join(root, 'dist/commands.target.cjs'),
  "// oclif's explicit command table: the commands bundle as bin/bundles.cjs loaded it.\nmodule.exports = require('../bin/bundles.cjs').load('commands')\n",
)

// This build's stamp (src/state/store.ts buildId): the state's cache trusts
// only data that a build with the same stamp checked and wrote.
{
  const {randomUUID} = await import('node:crypto')
  writeFileSync(join(root, 'dist/build-id'), randomUUID() + '\n')
}

// oclif's manifest, before the code caches: help reads it (src/cli/oclif-help.ts),
// and the warm-up runs help.
const {Plugin} = await import('@oclif/core')
const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')

// V8's code caches of the bundles (bin/bundles.cjs), one per role (a binary,
// or drop-ins that run the same code, or a kind of aplab command): made by
// running the role's common commands, one call after another as a script
// runs them, each call adding what it compiled to the caches the calls
// before it left, so that a role's cache holds the functions its calls
// compile and no others (a batch compiled its own machinery into every
// cache, and missed a call's way in). A state of its own for each role, in
// a directory removed afterwards; the roles side by side.
{
  const {mkdtempSync} = await import('node:fs')
  const {tmpdir, availableParallelism} = await import('node:os')
  const {spawn} = await import('node:child_process')
  const dir = mkdtempSync(join(tmpdir(), 'aplab-build-'))
  const U = 'a1b2c3d4-0000-4000-8000-000000000001'
  // A domain for virsh's warm-up to define, start and read.
  writeFileSync(join(dir, 'warm.xml'), "<domain type='kvm'>\n  <name>warm</name>\n  <memory unit='MiB'>512</memory>\n  <os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os>\n</domain>\n")
  const roles = {
    lszcrypt: ['lszcrypt', 'lszcrypt -V', 'lszcrypt -b', 'lszcrypt -d', 'lszcrypt -c 5', 'lszcrypt 5 6'],
    chzcrypt: ['chzcrypt -e 5', 'chzcrypt -d 05.0004', 'chzcrypt --config-off 6', 'chzcrypt --config-on 6', 'chzcrypt -e 6'],
    mdevctl: [`mdevctl define -u ${U} -p matrix -t vfio_ap-passthrough`, 'mdevctl list', 'mdevctl list -d', `mdevctl list -u ${U} --dumpjson`, 'mdevctl types', 'lsmdev', `mdevctl start -u ${U}`, `mdevctl modify -u ${U} --auto`],
    zdev: ['lszdev -t ap', 'chzdev -t ap apmask=-0 -p', 'lszdev -t ap -i', 'lszdev ap --columns ATTR:apmask'],
    modprobe: ['modprobe vfio_ap', 'lsmod', 'dmesg', 'modprobe -r vfio_ap'],
    virsh: ['virsh list --all', `virsh define ${dir}/warm.xml`, 'virsh start warm', 'virsh dumpxml warm', 'virsh destroy warm', 'virsh nodedev-list --cap mdev', 'virsh nodedev-dumpxml ap_matrix', 'virsh list'],
    sysfs: [
      'aplab sysfs cat /sys/bus/ap/apmask', 'aplab sysfs ls -l /sys/bus/ap/devices', 'aplab sysfs readlink -f /sys/bus/ap/devices/card05',
      'aplab sysfs write /sys/bus/ap/apmask -5,-6', 'aplab sysfs write /sys/bus/ap/aqmask -4,-0xab', 'aplab sysfs write /sys/bus/ap/poll_timeout 300000',
      'aplab sysfs cat /sys/bus/ap/aqmask',
    ],
    aplab: [
      `aplab mdev create -u ${U}`, `aplab mdev assign ${U} --adapter 5 --domain 4`, 'aplab mdev list', `aplab mdev show ${U}`,
      'aplab host list', 'aplab host show', 'aplab guest list', 'aplab hw adapter add 7', 'aplab state check', 'aplab matrix',
      'aplab --help', 'aplab mdev create --help', 'aplab mdev',
    ],
  }
  /** One call of a binary (the first word) on the role's state; a call that fails still warms what it ran. */
  const call = (role, line, env = {}) =>
    new Promise((done) => {
      const [name, ...args] = line.split(' ')
      const child = spawn(process.execPath, [join(root, 'bin', `${name}.js`), ...args], {
        env: {...process.env, APLAB_STATE: join(dir, `${role}.yaml`), APLAB_HOST: '', APLAB_UID: '', SYSFS_ROOT: '', ...env},
        stdio: process.env.APLAB_WARM_DEBUG ? 'inherit' : 'ignore',
      })
      child.on('exit', done)
      child.on('error', done)
    })
  const queue = Object.entries(roles)
  const worker = async () => {
    for (let next; (next = queue.shift()); ) {
      const [role, lines] = next
      await call(role, 'aplab init --preset vfio-ap-doc --force')
      for (const line of lines) await call(role, line, {APLAB_CODE_CACHE: `write:${role}`})
    }
  }
  try {
    await Promise.all(Array.from({length: Math.max(1, Math.min(availableParallelism(), queue.length))}, worker))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
