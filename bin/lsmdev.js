#!/usr/bin/env node
// Drop-in lsmdev: behaves like mdevctl 1.4.0's lsmdev on the emulated host (see mdevctl(8)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('lsmdev', process.argv.slice(2))
