#!/usr/bin/env node
// aplab: an emulated IBM Z KVM host for AP crypto pass-through (see aplab(1)).
process.removeAllListeners('warning')
require('./bundles.cjs').load('main').aplabMain(process.argv.slice(2))
