'use strict'
// Loads the esbuild bundles of dist/ (scripts/build.mjs) for the binaries.
//
// Each call of a binary is a new process, and compiling a bundle cost more
// than the command itself: a bundle is compiled here with V8's code cache
// (dist/NAME.cjs.v8cache), which the build makes by running the commands once
// and keeping the functions they compiled. A cache V8 refuses (another Node, or
// flags such as --cpu-prof) is simply not used: the bundle compiles as without
// it. APLAB_CODE_CACHE=write (the build's warm-up only) writes the caches of
// the bundles this process loaded when it exits.

const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const {createRequire} = require('node:module')

const dist = path.join(__dirname, '..', 'dist')
const loaded = new Map()
const scripts = []

/** The exports of dist/NAME.cjs, compiled once per process. */
function load(name) {
  const known = loaded.get(name)
  if (known) return known.exports
  const file = path.join(dist, `${name}.cjs`)
  const source = fs.readFileSync(file, 'utf8')
  let cachedData
  if (process.env.APLAB_CODE_CACHE !== 'write')
    try {
      cachedData = fs.readFileSync(`${file}.v8cache`)
    } catch {
      // no cache: compile
    }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  })
  const module = {exports: {}}
  loaded.set(name, module)
  scripts.push({file, script})
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dist)
  return module.exports
}

if (process.env.APLAB_CODE_CACHE === 'write')
  process.on('exit', () => {
    for (const {file, script} of scripts) {
      const temp = `${file}.v8cache.${process.pid}`
      fs.writeFileSync(temp, script.createCachedData())
      fs.renameSync(temp, `${file}.v8cache`)
    }
  })

module.exports = {load}
