// Build: compile TypeScript to dist/ and write oclif.manifest.json, so a
// fresh `npm ci` leaves working binaries. No bundler, no network.
import {execFileSync} from 'node:child_process'
import {rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), {recursive: true, force: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})

// The binaries run from esbuild bundles, so that a call parses one file
// instead of resolving hundreds (oclif.md section 2):
// - main.bundle.js: the dispatcher and the mirrored tools, which never load oclif;
// - commands.bundle.js: oclif's explicit command table with @oclif/core inside.
// The dispatcher imports the second one (and nothing of it is bundled twice
// into the first) only for a command that goes through oclif.
const {build} = await import('esbuild')
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // oclif reads a tsconfig with TypeScript only in development; never bundle it.
  external: ['typescript', 'ts-node'],
  // CommonJS dependencies inside the ESM bundle expect these.
  banner: {
    js: [
      "import {createRequire as __aplabRequire} from 'node:module';",
      "import {fileURLToPath as __aplabPath} from 'node:url';",
      'const require = __aplabRequire(import.meta.url);',
      'const __filename = __aplabPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
  logLevel: 'warning',
}
const commandTable = {
  name: 'command-table-outside',
  setup(b) {
    b.onResolve({filter: /^\.\.\/commands\.js$/}, () => ({path: './commands.bundle.js', external: true}))
  },
}
// virsh (libvirt's XML with fast-xml-parser) has a bundle of its own, so the
// other drop-ins do not parse it at every call.
const libvirtOutside = {
  name: 'libvirt-outside',
  setup(b) {
    b.onResolve({filter: /^\.\.\/libvirt\/run\.js$/}, () => ({path: './libvirt.bundle.js', external: true}))
  },
}
await build({...common, entryPoints: [join(root, 'src/cli/main.ts')], outfile: join(root, 'dist/main.bundle.js'), plugins: [commandTable, libvirtOutside]})
await build({...common, entryPoints: [join(root, 'src/commands.ts')], outfile: join(root, 'dist/commands.bundle.js')})
await build({...common, entryPoints: [join(root, 'src/libvirt/run.ts')], outfile: join(root, 'dist/libvirt.bundle.js')})

const {Plugin} = await import('@oclif/core')
const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')
