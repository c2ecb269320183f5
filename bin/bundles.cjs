'use strict'
// Loads the esbuild bundles of dist/ (scripts/build.mjs) for the binaries.
//
// Each call of a binary is a new process, and compiling a bundle cost more
// than the command itself: a bundle is compiled here with V8's code cache
// (dist/NAME.cjs.ROLE.v8cache), which the build makes by running each
// binary's common commands once and keeping the functions they compiled: one
// cache per binary (its role), so that a call reads only what its kind of
// command uses. A cache V8 refuses (another Node, or flags such as --cpu-prof)
// is simply not used: the bundle compiles as without it.
// APLAB_CODE_CACHE=write:ROLE (the build's warm-up only) writes the caches of
// the bundles this process loaded, for that role, when it exits: the
// functions it compiled and those of the cache it started from, so that a
// role's cache is made by running its commands one call after another.

const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const {createRequire} = require('node:module')

const dist = path.join(__dirname, '..', 'dist')
const loaded = new Map()
const scripts = []
const writing = /^write:([a-z0-9-]+)$/.exec(process.env.APLAB_CODE_CACHE ?? '')
let role = writing ? writing[1] : 'aplab'

/**
 * The code cache of a bundle for this role, unless the bundle is newer than
 * it: V8 checks a cache against the length of the source only, and a bundle
 * changed in place (patched, or compiled again without its caches) must not
 * run the code of the one before.
 */
function cacheOf(file) {
  let fd
  try {
    fd = fs.openSync(`${file}.${role}.v8cache`, 'r')
    const cache = fs.fstatSync(fd)
    if (cache.mtimeMs < fs.statSync(file).mtimeMs) return undefined
    return fs.readFileSync(fd)
  } catch {
    return undefined // no cache: compile
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** The exports of dist/NAME.cjs, compiled once per process. */
function load(name) {
  const known = loaded.get(name)
  if (known) return known.exports
  const file = path.join(dist, `${name}.cjs`)
  const source = fs.readFileSync(file, 'utf8')
  const cachedData = cacheOf(file)
  // The file is a function expression (scripts/build.mjs): compiled as it is.
  const script = new vm.Script(source, {
    filename: file,
    cachedData,
  })
  const module = {exports: {}}
  loaded.set(name, module)
  scripts.push({file, script})
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dist)
  return module.exports
}

if (writing)
  process.on('exit', () => {
    for (const {file, script} of scripts) {
      const temp = `${file}.${role}.v8cache.${process.pid}`
      try {
        fs.writeFileSync(temp, script.createCachedData())
        fs.renameSync(temp, `${file}.${role}.v8cache`)
      } catch {
        // a package directory this process may not write: no cache
        try {
          fs.rmSync(temp, {force: true})
        } catch {
          // nothing was made
        }
      }
    }
  })

/** The role of each binary: the drop-ins that run the same code share one. */
const ROLES = {lsmdev: 'mdevctl', lszdev: 'zdev', chzdev: 'zdev', lsmod: 'modprobe', dmesg: 'modprobe'}
/** The drop-ins that have a role (and a cache) of their own. */
const DROP_IN_ROLES = new Set(['lszcrypt', 'chzcrypt', 'mdevctl', 'lsmdev', 'chzdev', 'lszdev', 'virsh', 'modprobe', 'lsmod', 'dmesg'])

/**
 * The role of a call of aplab: a drop-in's (`aplab lszcrypt`), `sysfs`'s
 * (the plain `aplab sysfs` verbs, which run without the command table), or
 * aplab's; words after the global options --state and --host. A cache of
 * what all aplab commands compile cost the short ones more to read than it
 * saved them.
 */
function aplabRole(argv) {
  let i = 0
  while (i < argv.length && /^--(state|host)(=|$)/.test(argv[i])) i += argv[i].includes('=') ? 1 : 2
  const word = argv[i]
  if (word === 'sysfs') return 'sysfs'
  if (DROP_IN_ROLES.has(word)) return ROLES[word] ?? word
  return 'aplab'
}

/** Run a binary (bin/NAME.js): `aplab` or a drop-in. */
function run(name, argv) {
  if (!writing) role = name === 'aplab' ? aplabRole(argv) : (ROLES[name] ?? name)
  return load('main').binMain(name, argv)
}

module.exports = {load, run, aplabRole}
