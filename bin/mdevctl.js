#!/usr/bin/env node
// Drop-in mdevctl: behaves like mdevctl 1.4.0's mdevctl on the emulated host (see mdevctl(8)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('mdevctl', process.argv.slice(2))
