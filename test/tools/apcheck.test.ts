// ap-check (s390-tools 2.43.0) against chzdev-ap.md §4: argument checks and
// exit codes, the conflict analysis of pre define/modify/start, undefine,
// post, get attributes/capabilities and live modify, on the emulated host.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {beforeEach, describe, expect, it} from 'vitest'

import type {Host} from '../../src/core/model.js'
import {preset} from '../../src/core/presets.js'
import {hostVfs} from '../../src/sysfs/host.js'
import type {Vfs} from '../../src/sysfs/vfs.js'
import {type ApCheckResult, runApCheck} from '../../src/tools/apcheck.js'
import {RealSys} from '../../src/tools/sys.js'
import {jsoncArrayAssert, utilAssertBanner} from './util.js'

const U = '11111111-2222-3333-4444-555555555555'
const V = 'aaaaaaaa-2222-3333-4444-555555555555'
const W = 'bbbbbbbb-2222-3333-4444-555555555555'
const TYPE = 'vfio_ap-passthrough'

const args = (event: string, action: string, uuid = U, extra: string[] = []) => ['-t', TYPE, '-e', event, '-a', action, '-s', 'none', '-u', uuid, '-p', 'matrix', ...extra]
const conf = (start: string, ...attrs: Array<[string, string]>) => JSON.stringify({mdev_type: TYPE, start, attrs: attrs.map(([k, v]) => ({[k]: v}))})
const ok = (stdout = ''): ApCheckResult => ({code: 0, stdout, stderr: ''})
const fail = (stderr: string, code = 255): ApCheckResult => ({code, stdout: '', stderr})

let host: Host
let vfs: Vfs
const ap = (a: string[], stdin: string | null = null) => runApCheck(a, stdin, vfs, '', true)
const mdev = (uuid: string, ...writes: Array<[string, string]>) => {
  vfs.write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', uuid)
  for (const [attr, v] of writes) vfs.write(`/sys/devices/vfio_ap/matrix/${uuid}/${attr}`, v)
}
const freeMasks = () => {
  vfs.write('/sys/bus/ap/apmask', '-5,-6\n')
  vfs.write('/sys/bus/ap/aqmask', '-4,-0x47,-0xab,-0xff\n')
}
const define = (uuid: string, json: string) => {
  host.persistent.files[`/etc/mdevctl.d/matrix/${uuid}`] = json
}

beforeEach(() => {
  host = preset('vfio-ap-doc').build('h')
  vfs = hostVfs(host)
})

describe('argument checks (§4.3)', () => {
  it('unknown option, missing or repeated operands: exit 1', () => {
    expect(ap(['-x'])).toEqual(fail('Unknown operand\n', 1))
    expect(ap(['-t'])).toEqual(fail('Unknown operand\n', 1))
    expect(ap(['-e', 'pre'])).toEqual(fail('Duplicate or missing operand\n', 1))
    expect(ap([...args('pre', 'stop'), '-s', 'none'])).toEqual(fail('Duplicate or missing operand\n', 1))
  })

  it('UUID, then type (exit 2, silent), then parent', () => {
    expect(ap(args('pre', 'stop', 'not-a-uuid'))).toEqual(fail('Invalid UUID specified\n', 1))
    expect(ap(['-t', 'vfio_ccw-io', '-e', 'pre', '-a', 'stop', '-s', 'none', '-u', U, '-p', 'matrix'])).toEqual(fail('', 2))
    expect(ap(['-t', TYPE, '-e', 'pre', '-a', 'stop', '-s', 'none', '-u', U, '-p', '0.0.26ab'])).toEqual(fail('Invalid parent specified\n', 1))
    // Long options and any order work too (getopt_long).
    expect(ap(['--p=matrix', '--u', U, '-snone', '-astop', '-e', 'post', '-t', TYPE])).toEqual(ok())
  })

  it('unknown events and actions are ignored; -a "" is define', () => {
    expect(ap(args('notify', 'define'), '{')).toEqual(ok())
    expect(ap(args('pre', 'list'), '{')).toEqual(ok())
    expect(ap(args('pre', 'bogus'), '{')).toEqual(ok())
    expect(ap(args('pre', ''), '{')).toEqual(fail('Failed to read device config\n'))
  })
})

describe('pre define and pre modify (§4.4)', () => {
  it('the definition must not exist (define) or must exist (modify)', () => {
    define(U, conf('manual'))
    expect(ap(args('pre', 'define'), conf('manual'))).toEqual(fail('Config already exists\n'))
    expect(ap(args('pre', 'modify', V), conf('manual'))).toEqual(fail("Config doesn't exist\n"))
    expect(ap(args('pre', 'modify'), conf('manual'))).toEqual(ok())
  })

  it('the device config: bad JSON, another type, a bad start mode; no mdev_type crashes', () => {
    expect(ap(args('pre', 'define'), 'garbage')).toEqual(fail('Failed to read device config\n'))
    expect(ap(args('pre', 'define'), '{"mdev_type":"vfio_ccw-io","start":"auto"}')).toEqual(fail('Failed to read device config\n'))
    expect(ap(args('pre', 'define'), `{"mdev_type":"${TYPE}","start":"bogus"}`)).toEqual(fail('Failed to read device config\n'))
    expect(ap(args('pre', 'define'), '{"start":"manual"}')).toEqual({code: 139, stdout: '', stderr: '', signal: 'SIGSEGV'})
  })

  it('stdin is read as json-c 0.16 reads it: comments, trailing commas, single quotes, text after the object', () => {
    const body = `"mdev_type": '${TYPE}', /* the type */ "start": "manual", // manual\n "attrs": [{"assign_control_domain": "1"},],`
    // pre start goes on with the parsed object, to the active check.
    expect(ap(args('pre', 'start'), `{${body}} and more`)).toEqual(fail('At least one usage domain must be specified\n'))
    // live modify: read, type check, then ap_config (this uuid has no mdev): the message has no newline.
    expect(ap(args('live', 'modify'), `{${body}}}}`)).toEqual(fail('vfio-ap module does not support ap_config for live modification'))
    // What json-c cannot finish is "Failed to read device config": nothing, an unterminated comment, a lone /,
    // a bare number or `null` at the end of the input, a \ escape json-c does not know, nesting deeper than 32 levels.
    for (const text of ['', '  \n', `{${body}} /* no end`, `{${body}}/`, '5', 'null', '{"a": "\\q"}', '['.repeat(33) + ']'.repeat(33)])
      expect(ap(args('pre', 'define'), text)).toEqual(fail('Failed to read device config\n'))
    // A value that is not an object has no mdev_type: strcmp(NULL) (SIGSEGV), once json-c could finish it.
    for (const text of ['5\n', '[]', '"x"', 'true ', '['.repeat(32) + ']'.repeat(32)])
      expect(ap(args('pre', 'define'), text)).toEqual({code: 139, stdout: '', stderr: '', signal: 'SIGSEGV'})
  })

  it('the attrs as libap takes them from json-c: where the real one dies, ap-check dies the same way', () => {
    const with_ = (attrs: string) => `{"mdev_type": "${TYPE}", "start": "manual", "attrs": ${attrs}}`
    // Not an array: json-c's assert in json_object_array_length, then SIGABRT.
    for (const attrs of ['null', '{}', '"x"', '5'])
      expect(ap(args('pre', 'define'), with_(attrs))).toEqual({code: 134, stdout: '', stderr: jsoncArrayAssert('ap-check'), signal: 'SIGABRT'})
    // An entry that is not an object (json_object_object_foreach on NULL), a null setting (util_strdup(NULL)): SIGSEGV.
    for (const attrs of ['[5]', '[null]', '[[]]', '[{"assign_adapter": null}]', '[{"foo": null}]'])
      expect(ap(args('pre', 'define'), with_(attrs))).toEqual({code: 139, stdout: '', stderr: '', signal: 'SIGSEGV'})
  })

  it("settings are json_object_get_string of any JSON: a number's text, an array's spaced JSON; strtol(…, 0) of each strtok piece", () => {
    define(V, conf('auto', ['assign_adapter', '0,1,5'], ['assign_domain', '0,4,71']))
    // 1e2 is "1e2" (adapter 1), [ 4, 71 ] is "[ 4" (0) and " 71 ]" (71), TRUE is "true" (0), the last "start" wins.
    const text = `{"mdev_type": "${TYPE}", "start": "manual", "attrs": [{"assign_adapter": 1e2}, {"assign_domain": [4, 71], "assign_adapter": TRUE}], "start": "auto"}`
    expect(ap(args('pre', 'define'), text)).toEqual(
      fail(
        `APQN 0.0 is defined for autostart by ${V}\n` +
          `APQN 0.71 is defined for autostart by ${V}\n` +
          `APQN 1.0 is defined for autostart by ${V}\n` +
          `APQN 1.71 is defined for autostart by ${V}\n` +
          'APQN 0.0 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n' +
          'APQN 0.71 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n' +
          'APQN 1.0 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n' +
          'APQN 1.71 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n',
      ),
    )
  })

  it('ap_config as libap 2.43.0 reads it: three strtok pieces, or util_assert at ap.c:139', () => {
    const mask = (...bits: number[]) => '0x' + [...Array(64)].map((_, i) => bits.filter((b) => b >> 2 === i).reduce((v, b) => v | (8 >> (b & 3)), 0).toString(16)).join('')
    freeMasks()
    // Empty pieces are skipped (a trailing or doubled comma is fine); it replaces what came before.
    const cfg = (v: string) => `{"mdev_type": "${TYPE}", "start": "manual", "attrs": [{"assign_adapter": "1"}, {"ap_config": "${v}"}]}`
    expect(ap(args('pre', 'start'), cfg(`${mask(5)},,${mask()},${mask(1)},`))).toEqual(fail('At least one usage domain must be specified\n'))
    expect(ap(args('pre', 'start'), cfg(`${mask(5)},${mask(4)},${mask()}`))).toEqual(ok())
    for (const v of [`${mask(5)},${mask(4)}`, `${mask(5)},${mask(4)},${mask()},${mask()}`])
      expect(ap(args('pre', 'start'), cfg(v))).toEqual({
        code: 134,
        stdout: '',
        stderr: utilAssertBanner('(!strtok(NULL, ",")) && adapters && domains && controls', `Invalid ap_config attribute encountered ${v}`, 'ap.c:139: modify_device_ap_config()'),
        signal: 'SIGABRT',
      })
  })

  it('manual devices are not checked', () => {
    define(V, conf('auto', ['assign_adapter', '5'], ['assign_domain', '4']))
    expect(ap(args('pre', 'define'), conf('manual', ['assign_adapter', '5'], ['assign_domain', '4']))).toEqual(ok())
  })

  it('auto devices: against other auto definitions and the persistent masks, all conflicts reported', () => {
    define(V, conf('auto', ['assign_adapter', '5,6'], ['assign_domain', '4'], ['assign_domain', '0x47']))
    define(W, conf('manual', ['assign_adapter', '5'], ['assign_domain', '4']))
    define('not-a-uuid', conf('auto', ['assign_adapter', '5'], ['assign_domain', '4']))
    // The masks still reserve everything for the host (no 41-ap.rules: the active masks).
    expect(ap(args('pre', 'define'), conf('auto', ['assign_adapter', '5'], ['assign_domain', '0x47'], ['assign_domain', '0xab']))).toEqual(
      fail(
        `APQN 5.71 is defined for autostart by ${V}\n` +
          'APQN 5.71 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n' +
          'APQN 5.171 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n',
      ),
    )
    freeMasks()
    expect(ap(args('pre', 'define'), conf('auto', ['assign_adapter', '6'], ['assign_domain', '0xab']))).toEqual(ok())
    // `start` absent counts as auto; numbers are strtol(…, 0).
    expect(ap(args('pre', 'define'), `{"mdev_type":"${TYPE}","attrs":[{"assign_adapter":"05"},{"assign_domain":"4"}]}`)).toEqual(
      fail(`APQN 5.4 is defined for autostart by ${V}\n`),
    )
    // A definition of the same UUID (in any case) is not compared with itself.
    define('CCCCCCCC-2222-3333-4444-555555555555', conf('auto', ['assign_adapter', '6'], ['assign_domain', '0xab']))
    expect(ap(args('pre', 'define', 'cccccccc-2222-3333-4444-555555555555'), conf('auto', ['assign_adapter', '6'], ['assign_domain', '0xab']))).toEqual(ok())
    expect(ap(args('pre', 'define'), conf('auto', ['assign_adapter', '6'], ['assign_domain', '0xab']))).toEqual(
      fail('APQN 6.171 is defined for autostart by CCCCCCCC-2222-3333-4444-555555555555\n'),
    )
  })

  it('the persistent masks: 41-ap.rules, each mask falling back to sysfs', () => {
    freeMasks()
    host.persistent.files['/etc/udev/rules.d/41-ap.rules'] =
      '# Generated by chzdev\nACTION=="change", SUBSYSTEM=="ap", DEVPATH=="/devices/ap", ENV{BINDINGS}=="complete", ENV{COMPLETECOUNT}=="1", GOTO="cfg_ap"\nGOTO="end_ap"\n\nLABEL="cfg_ap"\n\n' +
      'ATTR{../../bus/ap/aqmask}="0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"\n' +
      'RUN{builtin}+="kmod load vfio_ap"\n\nLABEL="end_ap"\n'
    // apmask from sysfs (5 and 6 free): no conflict.
    expect(ap(args('pre', 'modify', V), conf('auto', ['assign_adapter', '5'], ['assign_domain', '4']))).toEqual(fail("Config doesn't exist\n"))
    define(U, conf('manual'))
    expect(ap(args('pre', 'modify'), conf('auto', ['assign_adapter', '5'], ['assign_domain', '4']))).toEqual(ok())
    vfs.write('/sys/bus/ap/apmask', '+5\n')
    expect(ap(args('pre', 'modify'), conf('auto', ['assign_adapter', '5'], ['assign_domain', '4']))).toEqual(
      fail('APQN 5.4 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n'),
    )
    // A mask of fewer than 64 hex digits makes libap's util_assert abort, with libutil's banner.
    host.persistent.files['/etc/udev/rules.d/41-ap.rules'] = 'ATTR{../../bus/ap/apmask}="0xff"\n'
    const r = ap(args('pre', 'modify'), conf('auto', ['assign_adapter', '5'], ['assign_domain', '4']))
    expect(r).toEqual({
      code: 134,
      stdout: '',
      stderr: utilAssertBanner('(strlen(hexbytestr) >= (size_t)(AP_MASK_SIZE - i - 1))', 'Invalid hex string provided for mask: 0xff', 'ap.c:249: get_hexbyte_value()'),
      signal: 'SIGABRT',
    })
  })
})

describe('pre start (§4.4)', () => {
  it('vfio_ap must be loaded: exit 1', () => {
    const h = preset('default').build('d')
    expect(runApCheck(args('pre', 'start'), conf('manual'), hostVfs(h), '')).toEqual(fail('vfio_ap module is not loaded\n', 1))
  })

  it('an empty device passes; control domains need a usage domain', () => {
    expect(ap(args('pre', 'start'), conf('manual'))).toEqual(ok())
    expect(ap(args('pre', 'start'), conf('manual', ['assign_adapter', '5'], ['assign_control_domain', '4']))).toEqual(fail('At least one usage domain must be specified\n'))
  })

  it('against running mdevs and the active masks (manual devices too)', () => {
    freeMasks()
    mdev(V, ['assign_adapter', '5'], ['assign_domain', '4'], ['assign_domain', '0x47'])
    mdev(W, ['assign_adapter', '6'])
    // The host owns an APQN when both its adapter and its domain are in the masks.
    vfs.write('/sys/bus/ap/aqmask', '+0xab\n')
    vfs.write('/sys/bus/ap/apmask', '+5\n')
    expect(ap(args('pre', 'start'), conf('manual', ['assign_adapter', '5,6'], ['assign_domain', '0x47'], ['assign_domain', '0xab']))).toEqual(
      fail(`APQN 5.71 already in use by ${V}\n` + 'APQN 5.171 is not allowed for vfio_ap-passthrough use by the active ap bus mask settings\n'),
    )
    // The device itself, once running, is not a conflict.
    mdev(U, ['assign_adapter', '6'], ['assign_domain', '0xff'])
    expect(ap(args('pre', 'start'), conf('manual', ['assign_adapter', '6'], ['assign_domain', '0xff']))).toEqual(ok())
  })
})

describe('pre undefine, pre stop, post (§4.4)', () => {
  it('undefine reads the definition file', () => {
    expect(ap(args('pre', 'undefine'), conf('manual'))).toEqual(fail('Failed to read device config\n'))
    define(U, conf('auto', ['assign_adapter', '5']))
    expect(ap(args('pre', 'undefine'), 'not even read')).toEqual(ok())
  })

  it('stop and post always succeed', () => {
    expect(ap(args('pre', 'stop'))).toEqual(ok())
    for (const a of ['define', 'modify', 'start', 'stop', 'undefine', 'attributes']) expect(ap(args('post', a))).toEqual(ok())
  })
})

describe('get attributes and get capabilities (§4.4)', () => {
  it('the matrix as attributes: decimal, adapters, domains, control domains', () => {
    freeMasks()
    mdev(U, ['assign_adapter', '6'], ['assign_adapter', '5'], ['assign_domain', '0x48'], ['assign_domain', '0x47'], ['assign_control_domain', '0x47'], ['assign_control_domain', '1'])
    expect(ap(args('get', 'attributes'))).toEqual(
      ok('[{"assign_adapter": "5"},{"assign_adapter": "6"},{"assign_domain": "71"},{"assign_domain": "72"},{"assign_control_domain": "1"},{"assign_control_domain": "71"}]\n'),
    )
    mdev(V)
    expect(ap(args('get', 'attributes', V))).toEqual(ok('[{}]\n'))
    mdev(W, ['assign_domain', '5'])
    expect(ap(args('get', 'attributes', W))).toEqual(ok('[{"assign_domain": "5"}]\n'))
    // A device that is gone: no output.
    expect(ap(args('get', 'attributes', '99999999-2222-3333-4444-555555555555'))).toEqual(ok())
  })

  it('capabilities: the intersection with mdevctl V2, in ap-check order', () => {
    const V2 = '{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],"events":["pre","post","notify","get","live"]}}'
    expect(ap(args('get', 'capabilities'), V2)).toEqual(
      ok('{ "supports": { "version": 2, "actions": [ "define", "modify", "start", "stop", "undefine", "attributes", "capabilities" ], "events": [ "pre", "post", "get", "live" ] } }\n'),
    )
    // mdevctl_action_table has no list or types (they are comments), but two zero-filled slots: "" matches twice.
    expect(ap(args('get', 'capabilities'), '{"provides":{"version":3,"actions":["START","list","types",""],"events":["Get"]}}')).toEqual(
      ok('{ "supports": { "version": 2, "actions": [ "START", "", "" ], "events": [ "Get" ] } }\n'),
    )
    expect(ap(args('get', 'capabilities'), '')).toEqual(fail('No capabilities provided\n'))
    expect(ap(args('get', 'capabilities'), '{"x":1}')).toEqual(fail('No supported capabilities provided\n'))
    expect(ap(args('get', 'capabilities'), '{"provides":{}}')).toEqual(fail('No version provided in capabilities\n'))
    expect(ap(args('get', 'capabilities'), '{"provides":{"version":2}}')).toEqual(fail('No actions provided in capabilities\n'))
    expect(ap(args('get', 'capabilities'), '{"provides":{"version":2,"actions":[]}}')).toEqual(fail('No events provided in capabilities\n'))
  })

  it('capabilities as json-c reads them: any JSON type is "there", a list must be an array, entries are strings of any JSON', () => {
    // Comments, single quotes, trailing commas and text after the object are json-c's (non-strict) JSON.
    expect(ap(args('get', 'capabilities'), "/* mdevctl */ {'provides': {'version': null, 'actions': ['Define', 'stop',], 'events': ['POST',],},} trailing")).toEqual(
      ok('{ "supports": { "version": 2, "actions": [ "Define", "stop" ], "events": [ "POST" ] } }\n'),
    )
    // `provides` that is not an object has no `version`.
    expect(ap(args('get', 'capabilities'), '{"provides": null}')).toEqual(fail('No version provided in capabilities\n'))
    // A list that is not an array: json_object_array_length's assert (SIGABRT); a null entry: strlen(NULL) (SIGSEGV).
    for (const actions of ['null', '"define"', '{}'])
      expect(ap(args('get', 'capabilities'), `{"provides":{"version":2,"actions":${actions},"events":[]}}`)).toEqual({
        code: 134,
        stdout: '',
        stderr: jsoncArrayAssert('ap-check'),
        signal: 'SIGABRT',
      })
    expect(ap(args('get', 'capabilities'), '{"provides":{"version":2,"actions":[null],"events":[]}}')).toEqual({code: 139, stdout: '', stderr: '', signal: 'SIGSEGV'})
    // Entries are json_object_get_string: a number is its text.
    expect(ap(args('get', 'capabilities'), '{"provides":{"version":2,"actions":[1, "start"],"events":["pre"]}}')).toEqual(
      ok('{ "supports": { "version": 2, "actions": [ "start" ], "events": [ "pre" ] } }\n'),
    )
    // json-c cannot finish a value that ends the input: a bare number, an unterminated comment.
    expect(ap(args('get', 'capabilities'), '5')).toEqual(fail('No capabilities provided\n'))
    expect(ap(args('get', 'capabilities'), '{"provides":{}} /* x')).toEqual(fail('No capabilities provided\n'))
  })
})

describe('live modify (§4.4)', () => {
  it('writes all three masks to ap_config in one line', () => {
    freeMasks()
    mdev(U, ['assign_adapter', '5'], ['assign_domain', '4'])
    expect(ap(args('live', 'modify'), conf('manual', ['assign_adapter', '6'], ['assign_domain', '0x47'], ['assign_control_domain', '0x47']))).toEqual(ok())
    expect(vfs.read(`/sys/devices/vfio_ap/matrix/${U}/ap_config`)).toBe(
      '0x0200000000000000000000000000000000000000000000000000000000000000,0x0000000000000000010000000000000000000000000000000000000000000000,0x0000000000000000010000000000000000000000000000000000000000000000\n',
    )
    expect(vfs.read(`/sys/devices/vfio_ap/matrix/${U}/matrix`)).toBe('06.0047\n')
  })

  it('an ID beyond the mask makes ap_set_bit read the NUL at its end: util_assert aborts', () => {
    freeMasks()
    mdev(U, ['assign_adapter', '5'], ['assign_domain', '4'])
    const r = ap(args('live', 'modify'), conf('manual', ['assign_adapter', '5'], ['assign_domain', '256']))
    expect(r).toEqual({code: 134, stdout: '', stderr: utilAssertBanner('false', "Could not parse hex digit '\0'", 'ap.c:260: get_hexbyte_value()'), signal: 'SIGABRT'})
  })

  it('the same checks as start; a device without ap_config', () => {
    freeMasks()
    mdev(V, ['assign_adapter', '5'], ['assign_domain', '4'])
    mdev(U)
    expect(ap(args('live', 'modify'), conf('manual', ['assign_adapter', '5'], ['assign_domain', '4']))).toEqual(fail(`APQN 5.4 already in use by ${V}\n`))
    expect(ap(args('live', 'modify', W), conf('manual'))).toEqual(fail('vfio-ap module does not support ap_config for live modification'))
  })
})

describe('on a real directory tree (root prefix)', () => {
  it('reads sysfs and /etc below the root', () => {
    const R = fs.mkdtempSync(path.join(os.tmpdir(), 'ap-check'))
    try {
      fs.mkdirSync(`${R}/sys/bus/ap`, {recursive: true})
      fs.mkdirSync(`${R}/sys/devices/vfio_ap/matrix/${V}`, {recursive: true})
      fs.mkdirSync(`${R}/etc/mdevctl.d/matrix`, {recursive: true})
      fs.writeFileSync(`${R}/sys/bus/ap/apmask`, '0x0000000000000000000000000000000000000000000000000000000000000000\n')
      fs.writeFileSync(`${R}/sys/bus/ap/aqmask`, '0x0000000000000000000000000000000000000000000000000000000000000000\n')
      fs.writeFileSync(`${R}/sys/devices/vfio_ap/matrix/${V}/matrix`, '05.0004\n05.0005\n')
      fs.writeFileSync(`${R}/etc/mdevctl.d/matrix/${W}`, conf('auto', ['assign_adapter', '5'], ['assign_domain', '5']))
      const sys = new RealSys(`${R}/sys`)
      expect(runApCheck(args('pre', 'start'), conf('manual', ['assign_adapter', '5'], ['assign_domain', '5']), sys, R)).toEqual(fail(`APQN 5.5 already in use by ${V}\n`))
      expect(runApCheck(args('pre', 'define'), conf('auto', ['assign_adapter', '5'], ['assign_domain', '5']), sys, R)).toEqual(fail(`APQN 5.5 is defined for autostart by ${W}\n`))
    } finally {
      fs.rmSync(R, {recursive: true})
    }
  })
})
