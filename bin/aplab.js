#!/usr/bin/env node
// aplab: an emulated IBM Z KVM host for AP crypto pass-through (see aplab(1)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('aplab', process.argv.slice(2))
