// mdevctl 1.4.0 against mdevctl.md: the upstream conformance corpus (§6.3)
// on a real directory tree (MDEVCTL_ENV_ROOT mode), clap 4 usage errors and
// help texts, definitions written by define/modify/undefine, callouts, and
// start/stop on the emulated host with the kernel's answers and ap-check.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {setClock} from '../../src/core/clock.js'
import {KernelError} from '../../src/core/errors.js'
import type {Host} from '../../src/core/model.js'
import {preset} from '../../src/core/presets.js'
import {hostVfs} from '../../src/sysfs/host.js'
import type {Vfs} from '../../src/sysfs/vfs.js'
import {hostCallout} from '../../src/tools/apcheck.js'
import {Stdio} from '../../src/tools/libc.js'
import type {CalloutResult, MdevctlEnv} from '../../src/tools/mdevctl/environment.js'
import {parseJson} from '../../src/tools/mdevctl/json.js'
import {runMdevctl} from '../../src/tools/mdevctl/main.js'
import {parseUuid} from '../../src/tools/mdevctl/uuid.js'
import {RealSys} from '../../src/tools/sys.js'
import {jsonPretty} from '../../src/views/mdevctl.js'

interface Run {
  stdout: string
  stderr: string
  code: number
}

function run(env: MdevctlEnv, ...argv: string[]): Run {
  const io = new Stdio(true)
  const code = runMdevctl(argv, env, io)
  return {stdout: io.stdout, stderr: io.stderr, code}
}

function check(r: Run, stdout: string, stderr = '', code = 0): void {
  expect(r.stderr).toBe(stderr)
  expect(r.stdout).toBe(stdout)
  expect(r.code).toBe(code)
}

const TIME = Date.UTC(2026, 10, 21, 13, 33, 22)
const WARN = (msg: string, module = 'mdevctl') => `[2026-11-21T13:33:22Z WARN  ${module}] ${msg}\n`

// --- a fake root, as the upstream TestEnvironment and mdevctl.md §5.2 lay it out ---------------

interface Script {
  /** What the script does, given its arguments as a map and its stdin. */
  (a: Record<string, string>, stdin: string | null): Partial<CalloutResult>
}

class FakeRoot {
  readonly R = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-test'))
  readonly calls: Array<{script: string; args: string; stdin: string | null}> = []
  readonly scripts = new Map<string, Script>()
  uuids: string[] = []

  constructor() {
    for (const d of [
      'sys/bus/mdev/devices',
      'sys/class/mdev_bus',
      'etc/mdevctl.d/scripts.d/callouts',
      'etc/mdevctl.d/scripts.d/notifiers',
      'usr/lib/mdevctl/scripts.d/callouts',
      'usr/lib/mdevctl/scripts.d/notifiers',
    ])
      fs.mkdirSync(this.p(d), {recursive: true})
  }

  p = (rel: string): string => path.join(this.R, rel)

  env(prog: 'mdevctl' | 'lsmdev' = 'mdevctl'): MdevctlEnv {
    return {
      fs: new RealSys(this.p('sys')),
      root: this.R,
      prog,
      callout: (script, args, stdin) => {
        const rel = script.slice(this.R.length)
        this.calls.push({script: rel, args: args.join(' '), stdin})
        const a: Record<string, string> = {}
        for (let i = 0; i < args.length; i += 2) a[args[i]] = args[i + 1]
        const fn = this.scripts.get(rel)
        if (!fn) throw new KernelError('EACCES')
        return {code: 0, stdout: '', stderr: '', ...fn(a, stdin)}
      },
      newUuid: () => this.uuids.shift() ?? fail('no uuid left'),
    }
  }

  /** populate_parent_device: available_instances, device_api, name always; description optional. */
  parent(parent: string, type: string, instances: number, api: string, name: string, description?: string): void {
    const d = this.p(`sys/class/mdev_bus/${parent}/mdev_supported_types/${type}`)
    fs.mkdirSync(d, {recursive: true})
    fs.writeFileSync(d + '/available_instances', String(instances))
    fs.writeFileSync(d + '/device_api', api)
    fs.writeFileSync(d + '/name', name)
    if (description !== undefined) fs.writeFileSync(d + '/description', description)
    fs.writeFileSync(d + '/create', '')
  }

  /** populate_active_device: the parent/type (1 instance), the device dir and both links. */
  active(uuid: string, parent: string, type: string): void {
    this.parent(parent, type, 1, 'vfio-pci', '')
    const d = this.p(`sys/class/mdev_bus/${parent}/${uuid}`)
    fs.mkdirSync(d, {recursive: true})
    fs.writeFileSync(d + '/remove', '')
    fs.symlinkSync(`../mdev_supported_types/${type}`, d + '/mdev_type')
    fs.symlinkSync(`../../../class/mdev_bus/${parent}/${uuid}`, this.p(`sys/bus/mdev/devices/${uuid}`))
  }

  /** populate_defined_device */
  defined(uuid: string, parent: string, json: string): void {
    fs.mkdirSync(this.p(`etc/mdevctl.d/${parent}`), {recursive: true})
    fs.writeFileSync(this.p(`etc/mdevctl.d/${parent}/${uuid}`), json)
  }

  /** populate_callout_script: an executable file whose behaviour is `fn`. */
  script(name: string, fn: Script, dir = 'usr/lib/mdevctl/scripts.d/callouts'): void {
    fs.writeFileSync(this.p(`${dir}/${name}`), '#!/bin/sh\n', {mode: 0o755})
    this.scripts.set(`/${dir}/${name}`, fn)
  }

  read = (rel: string): string => fs.readFileSync(this.p(rel), 'utf8')
  exists = (rel: string): boolean => fs.existsSync(this.p(rel))

  cleanup(): void {
    fs.rmSync(this.R, {recursive: true, force: true})
  }
}

const fail = (msg: string): never => {
  throw new Error(msg)
}

let root: FakeRoot
beforeEach(() => {
  setClock(() => TIME)
  root = new FakeRoot()
})
afterEach(() => root.cleanup())

// --- the upstream corpus (§6.3) ------------------------------------------------------------

const UUID = [
  '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9',
  '59e8b599-afdd-4766-a59e-415ef4f5a492',
  '4a0a190f-dcf3-4def-9342-c48768f0c940',
  '9f579710-6ffc-4201-987a-4ffa0fb1f3a5',
]
const PARENT = ['0000:00:02.0', '0000:00:03.0']
const DEVICE1 = `{
  "mdev_type": "vfio_ap-passthrough",
  "start": "manual",
  "attrs": [
    {"assign_adapter": "5"},
    {"assign_adapter": "6"},
    {"assign_domain": "0xab"},
    {"assign_control_domain": "0xab"},
    {"assign_domain": "4"},
    {"assign_control_domain": "4"}
  ]
}
`
const DEVICE2 = '{"mdev_type": "i915-GVTg_V5_8", "start": "auto", "attrs": []}\n'

function standardSetup(): void {
  root.active(UUID[0], PARENT[0], 'arbitrary_type1')
  root.active(UUID[1], PARENT[1], 'arbitrary_type2')
  root.defined(UUID[2], PARENT[0], DEVICE2)
  root.defined(UUID[3], PARENT[1], DEVICE1)
  root.defined(UUID[3], PARENT[0], DEVICE1)
}

const ATTRS6 = `  Attrs:
    @{0}: {"assign_adapter":"5"}
    @{1}: {"assign_adapter":"6"}
    @{2}: {"assign_domain":"0xab"}
    @{3}: {"assign_control_domain":"0xab"}
    @{4}: {"assign_domain":"4"}
    @{5}: {"assign_control_domain":"4"}
`
const DEFINED_TEXT = `4a0a190f-dcf3-4def-9342-c48768f0c940 0000:00:02.0 i915-GVTg_V5_8 auto
9f579710-6ffc-4201-987a-4ffa0fb1f3a5 0000:00:02.0 vfio_ap-passthrough manual
9f579710-6ffc-4201-987a-4ffa0fb1f3a5 0000:00:03.0 vfio_ap-passthrough manual
`
const DEVICE1_PRETTY = (indent: string) =>
  `{
  "mdev_type": "vfio_ap-passthrough",
  "start": "manual",
  "attrs": [
    {
      "assign_adapter": "5"
    },
    {
      "assign_adapter": "6"
    },
    {
      "assign_domain": "0xab"
    },
    {
      "assign_control_domain": "0xab"
    },
    {
      "assign_domain": "4"
    },
    {
      "assign_control_domain": "4"
    }
  ]
}`.replaceAll('\n', '\n' + indent)
const DEFINED_JSON = `[
  {
    "0000:00:02.0": [
      {
        "4a0a190f-dcf3-4def-9342-c48768f0c940": {
          "mdev_type": "i915-GVTg_V5_8",
          "start": "auto",
          "attrs": []
        }
      },
      {
        "9f579710-6ffc-4201-987a-4ffa0fb1f3a5": ${DEVICE1_PRETTY('        ')}
      }
    ],
    "0000:00:03.0": [
      {
        "9f579710-6ffc-4201-987a-4ffa0fb1f3a5": ${DEVICE1_PRETTY('        ')}
      }
    ]
  }
]`
const ACTIVE_TEXT = `976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9 0000:00:02.0 arbitrary_type1 manual
59e8b599-afdd-4766-a59e-415ef4f5a492 0000:00:03.0 arbitrary_type2 manual
`
const activeJson = (attrs: string) => `[
  {
    "0000:00:02.0": [
      {
        "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9": {
          "mdev_type": "arbitrary_type1",
          "start": "manual",
          "attrs": ${attrs}
        }
      }
    ],
    "0000:00:03.0": [
      {
        "59e8b599-afdd-4766-a59e-415ef4f5a492": {
          "mdev_type": "arbitrary_type2",
          "start": "manual",
          "attrs": ${attrs}
        }
      }
    ]
  }
]`

describe('list: the upstream corpus on a fake root (MDEVCTL_ENV_ROOT)', () => {
  it('active-none and defined-none: empty text, [] JSON', () => {
    const env = root.env()
    check(run(env, 'list'), '')
    check(run(env, 'list', '--dumpjson'), '[]')
    check(run(env, 'list', '-d'), '')
    check(run(env, 'list', '-d', '--dumpjson'), '[]')
  })

  it('defined, defined-verbose, defined.json (= defined-verbose.json)', () => {
    standardSetup()
    const env = root.env()
    check(run(env, 'list', '-d'), DEFINED_TEXT)
    check(
      run(env, 'list', '-d', '-v'),
      `4a0a190f-dcf3-4def-9342-c48768f0c940 0000:00:02.0 i915-GVTg_V5_8 auto
9f579710-6ffc-4201-987a-4ffa0fb1f3a5 0000:00:02.0 vfio_ap-passthrough manual
${ATTRS6}9f579710-6ffc-4201-987a-4ffa0fb1f3a5 0000:00:03.0 vfio_ap-passthrough manual
${ATTRS6}`,
    )
    check(run(env, 'list', '-d', '--dumpjson'), DEFINED_JSON)
    check(run(env, 'list', '-d', '--dumpjson', '-v'), DEFINED_JSON)
  })

  it('defined with parent, uuid and both filters', () => {
    standardSetup()
    const env = root.env()
    const lines = DEFINED_TEXT.split(/(?<=\n)/)
    check(run(env, 'list', '-d', '-p', PARENT[0]), lines[0] + lines[1])
    check(run(env, 'list', '-d', '-u', UUID[3]), lines[1] + lines[2])
    check(run(env, 'list', '-d', '-u', UUID[3], '-p', PARENT[0]), '9f579710-6ffc-4201-987a-4ffa0fb1f3a5 0000:00:02.0 vfio_ap-passthrough manual\n')
    // One match: the bare config, usable as a definition file (device1.json less its newline).
    check(run(env, 'list', '-d', '-u', UUID[3], '-p', PARENT[0], '--dumpjson'), DEVICE1_PRETTY(''))
    // Two matches: the hierarchical form with both parents.
    const two = JSON.parse(run(env, 'list', '-d', '-u', UUID[3], '--dumpjson').stdout)
    expect(Object.keys(two[0])).toEqual(PARENT)
  })

  it('no-match-uuid and no-match-parent', () => {
    standardSetup()
    const env = root.env()
    check(run(env, 'list', '-d', '-v', '-u', '466983a3-1240-4543-8d02-01c29a08fb0c'), '')
    check(run(env, 'list', '-d', '-v', '-u', '466983a3-1240-4543-8d02-01c29a08fb0c', '--dumpjson'), '[]')
    check(run(env, 'list', '-d', '-v', '-p', 'nonexistent'), '')
    check(run(env, 'list', '-d', '-v', '-p', 'nonexistent', '--dumpjson'), '[]')
  })

  it('active, active-verbose, active-parent, active-uuid', () => {
    standardSetup()
    const env = root.env()
    check(run(env, 'list'), ACTIVE_TEXT)
    check(run(env, 'list', '-v'), ACTIVE_TEXT)
    check(run(env, 'list', '--dumpjson'), activeJson('[]'))
    check(run(env, 'list', '-p', PARENT[0]), ACTIVE_TEXT.split('\n')[0] + '\n')
    check(run(env, 'list', '-u', UUID[0], '--dumpjson'), '{\n  "mdev_type": "arbitrary_type1",\n  "start": "manual",\n  "attrs": []\n}')
    check(run(env, 'list', '-u', UUID[0], '-p', PARENT[1]), '')
  })

  it('active-callout: get attributes for every active device; bad JSON is ignored', () => {
    standardSetup()
    root.script('good-json.sh', () => ({stdout: '[{"attribute0": "VALUE"}]'}))
    const env = root.env()
    check(run(env, 'list'), ACTIVE_TEXT)
    check(run(env, 'list', '--dumpjson'), activeJson('[\n            {\n              "attribute0": "VALUE"\n            }\n          ]'))
    check(
      run(env, 'list', '-v'),
      ACTIVE_TEXT.replace('manual\n', 'manual\n  Attrs:\n    @{0}: {"attribute0":"VALUE"}\n') + '  Attrs:\n    @{0}: {"attribute0":"VALUE"}\n',
    )

    root.scripts.set('/usr/lib/mdevctl/scripts.d/callouts/good-json.sh', () => ({stdout: 'not json'}))
    check(run(env, 'list'), ACTIVE_TEXT)
    check(run(env, 'list', '--dumpjson'), activeJson('[]'))
  })

  it('an active device with a definition: (defined) and the start mode of the file', () => {
    standardSetup()
    root.defined(UUID[0], PARENT[0], DEVICE2.replace('i915-GVTg_V5_8', 'arbitrary_type1'))
    const env = root.env()
    check(run(env, 'list'), ACTIVE_TEXT.replace('arbitrary_type1 manual', 'arbitrary_type1 auto (defined)'))
    check(run(env, 'list', '-d', '-p', PARENT[0]), '4a0a190f-dcf3-4def-9342-c48768f0c940 0000:00:02.0 i915-GVTg_V5_8 auto\n976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9 0000:00:02.0 arbitrary_type1 auto (active)\n9f579710-6ffc-4201-987a-4ffa0fb1f3a5 0000:00:02.0 vfio_ap-passthrough manual\n')
  })

  it('invalid files: entries that are not UUIDs are skipped with a warning', () => {
    root.active('invalid-uuid-value', PARENT[1], 'arbitrary_type')
    root.defined('invalid-uuid-value', PARENT[1], DEVICE1)
    const env = root.env()
    check(run(env, 'list'), '', WARN("Can't determine uuid for file 'invalid-uuid-value'"))
    check(run(env, 'list', '-d'), '', WARN("Can't determine uuid for file 'invalid-uuid-value'"))
  })

  it('list -u over a directory read in any order gives what the ordered scan gives', () => {
    /** A file system that also reads a directory in another order (reversed), counting the ordered reads of /sys/bus/mdev/devices. */
    class AnyOrder extends RealSys {
      ordered = 0
      override readdir(p: string): string[] {
        if (p.endsWith('/bus/mdev/devices')) this.ordered++
        return super.readdir(p)
      }
      readdirAnyOrder(p: string): string[] {
        return super.readdir(p).reverse()
      }
    }
    standardSetup()
    root.active(UUID[2].toUpperCase(), PARENT[1], 'arbitrary_type2')
    const both = () => {
      const fs = new AnyOrder(root.p('sys'))
      const any = {...root.env(), fs}
      const r = [...UUID, UUID[0].toUpperCase(), '11111111-2222-3333-4444-555555555555'].map((u) => {
        const got = run(any, 'list', '-u', u)
        expect(got).toEqual(run(root.env(), 'list', '-u', u))
        return got
      })
      return {r, ordered: fs.ordered}
    }
    const plain = both()
    // Every name a UUID, at most one of each: the scan never asked for kernfs's order.
    expect(plain.ordered).toBe(0)
    expect(plain.r[0].stdout).toContain(UUID[0])
    // An entry that is no UUID is warned of in the directory's order: that scan reads it in order.
    root.active('invalid-uuid-value', PARENT[1], 'arbitrary_type')
    root.active('zz-invalid', PARENT[1], 'arbitrary_type')
    const warned = both()
    expect(warned.ordered).toBeGreaterThan(0)
    expect(warned.r[0].stderr).toContain("Can't determine uuid for file 'zz-invalid'")
  })

  it('a broken definition aborts list -d, unless -p filters it out', () => {
    standardSetup()
    root.defined('11111111-2222-3333-4444-555555555555', 'matrix', 'garbage')
    const env = root.env()
    check(run(env, 'list', '-d'), '', 'Error: expected value at line 1 column 1\n', 1)
    check(run(env, 'list', '-d', '-p', PARENT[1]), DEFINED_TEXT.split('\n')[2] + '\n')
  })

  it('lsmdev: the list options without subcommands', () => {
    standardSetup()
    check(run(root.env('lsmdev'), '-d'), DEFINED_TEXT)
    check(run(root.env('lsmdev'), '-V'), 'lsmdev 1.4.0\n')
    check(run(root.env('lsmdev'), 'list'), '', "error: unexpected argument 'list' found\n\nUsage: lsmdev [OPTIONS]\n\nFor more information, try '--help'.\n", 2)
  })
})

describe('types: the upstream corpus', () => {
  const setup = () => {
    root.parent(PARENT[0], 'mdev_type1', 5, 'vfio-pci', 'name1', 'description 1')
    root.parent(PARENT[0], 'mdev_type2', 16, 'vfio-pci', 'name2')
    root.parent(PARENT[0], 'mdev_type3', 1, 'vfio-pci', 'name3', 'description 3')
    root.parent(PARENT[1], 'nvidia-155', 4, 'vfio-pci', 'GRID M10-2B')
    root.parent(PARENT[1], 'nvidia-36', 16, 'vfio-pci', 'GRID M10-0Q')
    root.parent('0.0.26ab', 'vfio_ccw-io', 4, 'vfio_mdev', 'name', 'description')
  }
  const FULL_TEXT = `0.0.26ab
  vfio_ccw-io
    Available instances: 4
    Device API: vfio_mdev
    Name: name
    Description: description
0000:00:02.0
  mdev_type1
    Available instances: 5
    Device API: vfio-pci
    Name: name1
    Description: description 1
  mdev_type2
    Available instances: 16
    Device API: vfio-pci
    Name: name2
  mdev_type3
    Available instances: 1
    Device API: vfio-pci
    Name: name3
    Description: description 3
0000:00:03.0
  nvidia-155
    Available instances: 4
    Device API: vfio-pci
    Name: GRID M10-2B
  nvidia-36
    Available instances: 16
    Device API: vfio-pci
    Name: GRID M10-0Q
`
  // testdata/types/full.json
  const FULL_JSON = `[
  {
    "0.0.26ab": [
      {
        "vfio_ccw-io": {
          "available_instances": 4,
          "device_api": "vfio_mdev",
          "name": "name",
          "description": "description"
        }
      }
    ],
    "0000:00:02.0": [
      {
        "mdev_type1": {
          "available_instances": 5,
          "device_api": "vfio-pci",
          "name": "name1",
          "description": "description 1"
        }
      },
      {
        "mdev_type2": {
          "available_instances": 16,
          "device_api": "vfio-pci",
          "name": "name2"
        }
      },
      {
        "mdev_type3": {
          "available_instances": 1,
          "device_api": "vfio-pci",
          "name": "name3",
          "description": "description 3"
        }
      }
    ],
    "0000:00:03.0": [
      {
        "nvidia-155": {
          "available_instances": 4,
          "device_api": "vfio-pci",
          "name": "GRID M10-2B"
        }
      },
      {
        "nvidia-36": {
          "available_instances": 16,
          "device_api": "vfio-pci",
          "name": "GRID M10-0Q"
        }
      }
    ]
  }
]`

  it('empty, full, each parent, no match', () => {
    const env = root.env()
    check(run(env, 'types'), '')
    check(run(env, 'types', '--dumpjson'), '[]')
    setup()
    check(run(env, 'types'), FULL_TEXT)
    check(run(env, 'types', '--dumpjson'), FULL_JSON)
    check(run(env, 'types', '-p', '0000:00:03.0'), FULL_TEXT.slice(FULL_TEXT.indexOf('0000:00:03.0')))
    check(run(env, 'types', '-p', '0.0.26ab', '--dumpjson'), jsonPretty(parseJson(FULL_JSON)).replace(/,\n    "0000:00:02.0"[^]*(?=\n  }\n]$)/, ''))
    check(run(env, 'types', '-p', 'nonexistent'), '')
    check(run(env, 'types', '-p', 'nonexistent', '--dumpjson'), '[]')
  })

  it('descriptions join lines; a parent without mdev_supported_types fails', () => {
    root.parent('0000:00:02.0', 'i915-GVTg_V5_4', 3, 'vfio-pci\n', 'GVTg_V5_4\n', 'low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\n')
    fs.mkdirSync(root.p('sys/class/mdev_bus/emptyparent/mdev_supported_types'), {recursive: true})
    const env = root.env()
    check(
      run(env, 'types'),
      `0000:00:02.0
  i915-GVTg_V5_4
    Available instances: 3
    Device API: vfio-pci
    Name: GVTg_V5_4
    Description: low_gm_size: 128MB, high_gm_size: 512MB, fence: 4
emptyparent
`,
    )
    fs.mkdirSync(root.p('sys/class/mdev_bus/noparent'))
    check(run(env, 'types'), '', 'Error: No such file or directory (os error 2)\n', 1)
  })
})

// --- define / modify / undefine: the files written -------------------------------------------------

const CONFIG = (type: string, start: string, attrs = '[]') => `{\n  "mdev_type": "${type}",\n  "start": "${start}",\n  "attrs": ${attrs}\n}`

describe('define', () => {
  const P = '0000:00:03.0'
  const T = 'i915-GVTg_V5_4'
  const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9'

  it('no-uuid: a generated UUID, printed', () => {
    root.uuids = ['dfada69f-eb86-482b-a6ad-74979bb7f741']
    check(run(root.env(), 'define', '-p', P, '-t', T, '-a'), 'dfada69f-eb86-482b-a6ad-74979bb7f741\n')
    expect(root.read(`etc/mdevctl.d/${P}/dfada69f-eb86-482b-a6ad-74979bb7f741`)).toBe(CONFIG(T, 'auto'))
  })

  it('uuid-auto, uuid-manual; any UUID form is stored lowercase hyphenated', () => {
    check(run(root.env(), 'define', '-u', U, '-p', P, '-t', T, '-a'), '')
    expect(root.read(`etc/mdevctl.d/${P}/${U}`)).toBe(CONFIG(T, 'auto'))
    check(run(root.env(), 'define', '-u', '{AAAAAAAA-2222-3333-4444-555555555555}', '-p', P, '-t', T), '')
    expect(root.read(`etc/mdevctl.d/${P}/aaaaaaaa-2222-3333-4444-555555555555`)).toBe(CONFIG(T, 'manual'))
    check(run(root.env(), 'define', '-u', 'urn:uuid:bbbbbbbb22223333444455555555555c', '-p', P, '-t', T), '', "error: invalid value 'urn:uuid:bbbbbbbb22223333444455555555555c' for '--uuid <UUID>': invalid group count: expected 5, found 1\n\nFor more information, try '--help'.\n", 2)
    check(run(root.env(), 'define', '-u', 'bbbbbbbb22223333444455555555555c', '-p', P, '-t', T), '')
    expect(root.exists(`etc/mdevctl.d/${P}/bbbbbbbb-2222-3333-4444-55555555555c`)).toBe(true)
  })

  it('failures: already defined, no type, no parent for a running device with a type', () => {
    root.uuids = ['59e8b599-afdd-4766-a59e-415ef4f5a492']
    const env = root.env()
    check(run(env, 'define', '-u', U, '-p', P, '-t', T), '')
    check(run(env, 'define', '-u', U, '-p', P, '-t', T), '', `Error: Device ${U} on ${P} already defined\n`, 1)
    check(run(env, 'define', '-p', P, '-a'), '', 'Error: No type specified\n', 1)
    check(run(env, 'define', '-u', U, '-t', T), '', 'Error: No parent specified\n', 1)
    root.active(U, P, T)
    check(run(env, 'define', '-u', U, '-t', T), '', 'Error: No parent specified\n', 1)
  })

  it('a running device: parent and type from sysfs; another parent or type is allowed', () => {
    const V = '59e8b599-afdd-4766-a59e-415ef4f5a492'
    root.active(V, P, T)
    const env = root.env()
    check(run(env, 'define', '-u', V), '')
    expect(root.read(`etc/mdevctl.d/${P}/${V}`)).toBe(CONFIG(T, 'manual'))
    check(run(env, 'define', '-u', V, '-p', '0000:00:02.0'), '')
    check(run(env, 'define', '-u', V, '-p', '0000:00:04.0', '-t', 'other'), '')
    expect(root.read(`etc/mdevctl.d/0000:00:04.0/${V}`)).toBe(CONFIG('other', 'manual'))
  })

  it('jsonfile: re-serialised; refuses to overwrite; needs a parent; bad files', () => {
    const jf = root.p('device.json')
    fs.writeFileSync(jf, DEVICE1)
    const env = root.env()
    check(run(env, 'define', '-u', U, '-p', P, '--jsonfile', jf), '')
    expect(root.read(`etc/mdevctl.d/${P}/${U}`)).toBe(DEVICE1_PRETTY(''))
    check(run(env, 'define', '-u', U, '-p', P, '--jsonfile', jf), '', `Error: Cowardly refusing to overwrite existing config for ${P}/${U}\n`, 1)
    check(run(env, 'define', '-u', U, '--jsonfile', jf), '', `Error: Parent device required to define device via "${jf}"\n`, 1)
    root.uuids = ['59e8b599-afdd-4766-a59e-415ef4f5a492']
    check(run(env, 'define', '-p', P, '--jsonfile', jf + '.missing'), '', `Error: Unable to read file "${jf}.missing"\n\nCaused by:\n    No such file or directory (os error 2)\n`, 1)
    fs.writeFileSync(jf, '{bad')
    root.uuids = ['4a0a190f-dcf3-4def-9342-c48768f0c940']
    check(run(env, 'define', '-p', P, '--jsonfile', jf), '', 'Error: key must be a string at line 1 column 2\n', 1)
  })

  it('load-json: missing attrs become [], extra keys dropped, order and duplicates kept', () => {
    const jf = root.p('in.json')
    const env = root.env()
    fs.writeFileSync(jf, '{"mdev_type":"i915-GVTg_V5_8","start":"auto"}')
    check(run(env, 'define', '-u', '5269fe7a-18d1-48ad-88e1-3fda4176f536', '-p', P, '--jsonfile', jf), '')
    expect(root.read(`etc/mdevctl.d/${P}/5269fe7a-18d1-48ad-88e1-3fda4176f536`)).toBe(CONFIG('i915-GVTg_V5_8', 'auto'))
    fs.writeFileSync(jf, '{\n"start"  :  "bogus",   "extra": 1,\n      "attrs": [{"foo": "bar"}, {"foo": "va\\"l ü"}, {"a": "1"}], "mdev_type": "t"}')
    check(run(env, 'define', '-u', 'c07ab7b2-8aa2-427a-91c6-ffc949bb77f9', '-p', P, '--jsonfile', jf), '')
    expect(root.read(`etc/mdevctl.d/${P}/c07ab7b2-8aa2-427a-91c6-ffc949bb77f9`)).toBe(
      CONFIG('t', 'manual', '[\n    {\n      "foo": "bar"\n    },\n    {\n      "foo": "va\\"l ü"\n    },\n    {\n      "a": "1"\n    }\n  ]'),
    )
    check(run(env, 'list', '-d', '-v', '-u', 'c07ab7b2-8aa2-427a-91c6-ffc949bb77f9'), `c07ab7b2-8aa2-427a-91c6-ffc949bb77f9 ${P} t manual\n  Attrs:\n    @{0}: {"foo":"bar"}\n    @{1}: {"foo":"va"l ü"}\n    @{2}: {"a":"1"}\n`)
  })

  it('load-json validation messages', () => {
    const jf = root.p('in.json')
    const env = root.env()
    const msg = (json: string) => {
      fs.writeFileSync(jf, json)
      root.uuids = ['5269fe7a-18d1-48ad-88e1-3fda4176f536']
      return run(env, 'define', '-p', P, '--jsonfile', jf)
    }
    check(msg('{"start":"auto"}'), '', 'Error: invalid json\n', 1)
    check(msg('{"mdev_type":"t","start":null}'), '', 'Error: invalid json\n', 1)
    check(msg('{"mdev_type":"t","start":"auto","attrs":{}}'), '', 'Error: attributes field is not an array\n', 1)
    check(msg('{"mdev_type":"t","start":"auto","attrs":[1]}'), '', 'Error: invalid JSON format for attribute: not an object\n', 1)
    check(msg('{"mdev_type":"t","start":"auto","attrs":[{}]}'), '', 'Error: invalid JSON format for attribute: too many fields\n', 1)
    check(msg('{"mdev_type":"t","start":"auto","attrs":[{"a":5}]}'), '', 'Error: invalid JSON format for attribute {"a", 5}: value must be of type str\n', 1)
    check(msg('{"mdev_type":5,"start":"auto"}'), '', "thread 'main' panicked at src/mdev.rs:219:52:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n", 101)
    check(msg('nope'), '', 'Error: expected ident at line 1 column 2\n', 1)
    check(msg('{"a":1,}'), '', 'Error: trailing comma at line 1 column 8\n', 1)
    check(msg('{"a":1} x'), '', 'Error: trailing characters at line 1 column 9\n', 1)
    check(msg('{\n  "a": '), '', 'Error: EOF while parsing a value at line 2 column 7\n', 1)
  })
})

describe('modify (upstream modify/*.expected)', () => {
  const P = '0000:00:03.0'
  const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9'
  const attrs = (...pairs: Array<[string, string]>) => '[\n' + pairs.map(([k, v]) => `    {\n      "${k}": "${v}"\n    }`).join(',\n') + '\n  ]'
  const A: Array<[string, string]> = [
    ['assign_adapter', '5'],
    ['assign_adapter', '6'],
    ['assign_domain', '0xab'],
    ['assign_control_domain', '0xab'],
    ['assign_domain', '4'],
    ['assign_control_domain', '4'],
  ]
  const file = () => root.read(`etc/mdevctl.d/${P}/${U}`)
  beforeEach(() => root.defined(U, P, DEVICE1))

  it('auto, manual, mdev_type', () => {
    const env = root.env()
    check(run(env, 'modify', '-u', U, '--auto'), '')
    expect(file()).toBe(CONFIG('vfio_ap-passthrough', 'auto', attrs(...A)))
    check(run(env, 'modify', '-u', U, '--manual'), '')
    expect(file()).toBe(DEVICE1_PRETTY(''))
    check(run(env, 'modify', '-u', U, '-t', 'changed-mdev-type', '--manual'), '')
    expect(file()).toBe(CONFIG('changed-mdev-type', 'manual', attrs(...A)))
  })

  it('delattr with and without index; addattr with and without index', () => {
    const env = root.env()
    check(run(env, 'modify', '-u', U, '--delattr', '-i', '2'), '')
    expect(file()).toBe(CONFIG('vfio_ap-passthrough', 'manual', attrs(A[0], A[1], A[3], A[4], A[5])))
    root.defined(U, P, DEVICE1)
    check(run(env, 'modify', '-u', U, '--delattr'), '')
    expect(file()).toBe(CONFIG('vfio_ap-passthrough', 'manual', attrs(...A.slice(0, 5))))
    root.defined(U, P, DEVICE1)
    check(run(env, 'modify', '-u', U, '--addattr', 'added-attr', '--value', 'added-attr-value', '-i', '3'), '')
    expect(file()).toBe(CONFIG('vfio_ap-passthrough', 'manual', attrs(A[0], A[1], A[2], ['added-attr', 'added-attr-value'], A[3], A[4], A[5])))
    root.defined(U, P, DEVICE1)
    check(run(env, 'modify', '-u', U, '--addattr', 'added-attr', '--value', 'added-attr-value'), '')
    expect(file()).toBe(CONFIG('vfio_ap-passthrough', 'manual', attrs(...A, ['added-attr', 'added-attr-value'])))
  })

  it('index errors carry the attribute hint', () => {
    const env = root.env()
    check(run(env, 'modify', '-u', U, '--delattr', '-i', '6'), '', `Error: Attribute index 6 is invalid\n${ATTRS6}\n`, 1)
    check(run(env, 'modify', '-u', U, '--addattr', 'x', '--value', 'y', '-i', '7'), '', `Error: Attribute index 7 is invalid\n${ATTRS6}\n`, 1)
    root.defined(U, P, DEVICE2)
    check(run(env, 'modify', '-u', U, '--delattr', '-i', '0'), '', `Error: Attribute index 0 is invalid\nDevice ${U} has no attributes\n`, 1)
    check(run(env, 'modify', '-u', U, '--delattr'), '')
  })

  it('not defined; multiple parents with and without -p', () => {
    const env = root.env()
    const V = '59e8b599-afdd-4766-a59e-415ef4f5a492'
    check(run(env, 'modify', '-u', V, '--auto'), '', `Error: Mediated device ${V} is not defined\n`, 1)
    check(run(env, 'modify', '-u', V, '-p', P, '--auto'), '', `Error: Mediated device ${P}/${V} is not defined\n`, 1)
    root.defined(U, '0000:00:02.0', DEVICE1)
    check(run(env, 'modify', '-u', U, '--auto'), '', `Error: Multiple definitions found for ${U}, specify a parent\n`, 1)
    check(run(env, 'modify', '-u', U, '-p', P, '--auto'), '')
    expect(file()).toBe(CONFIG('vfio_ap-passthrough', 'auto', attrs(...A)))
  })

  it('jsonfile replaces the definition; needs -p', () => {
    const jf = root.p('modified.json')
    fs.writeFileSync(jf, '{"mdev_type": "vfio_ap-passthrough", "start": "auto", "attrs": [{"assign_adapter": "0x04"}, {"assign_domain": "0x0005"}, {"assign_control_domain": "0x0005"}]}\n')
    const env = root.env()
    check(run(env, 'modify', '-u', U, '--jsonfile', jf), '', 'Error: Parent device required to modify device via json file\n', 1)
    check(run(env, 'modify', '-u', U, '-p', P, '--jsonfile', jf), '')
    expect(file()).toBe(CONFIG('vfio_ap-passthrough', 'auto', attrs(['assign_adapter', '0x04'], ['assign_domain', '0x0005'], ['assign_control_domain', '0x0005'])))
  })

  it('--live needs an active device and a versioned script', () => {
    const jf = root.p('modified.json')
    fs.writeFileSync(jf, DEVICE1)
    const env = root.env()
    check(run(env, 'modify', '-u', U, '--live', '--jsonfile', jf), '', `Error: Mediated device ${U} is not active\n`, 1)
    root.active(U, P, 'vfio_ap-passthrough')
    check(run(env, 'modify', '-u', U, '--live', '--jsonfile', jf), '', 'Error: No callout script with version support found that supports live modify\n', 1)
    root.script('ver.sh', (a) => (a['-e'] === 'get' && a['-a'] === 'capabilities' ? {stdout: '{"supports":{"version":2,"actions":["modify"],"events":["pre","post"]}}'} : {}))
    check(run(env, 'modify', '-u', U, '--live', '--jsonfile', jf), '', `Error: Script "${root.p('usr/lib/mdevctl/scripts.d/callouts/ver.sh')}" does not support event 'Live'\n`, 1)
  })
})

describe('undefine', () => {
  const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9'
  it('one parent, all parents, nonexistent', () => {
    root.defined(U, PARENT[0], DEVICE1)
    root.defined(U, PARENT[1], DEVICE1)
    const env = root.env()
    check(run(env, 'undefine', '-u', U, '-p', PARENT[0]), '')
    expect(root.exists(`etc/mdevctl.d/${PARENT[0]}/${U}`)).toBe(false)
    expect(root.exists(`etc/mdevctl.d/${PARENT[0]}`)).toBe(true)
    root.defined(U, PARENT[0], DEVICE1)
    check(run(env, 'undefine', '-u', U), '')
    expect(root.exists(`etc/mdevctl.d/${PARENT[0]}/${U}`) || root.exists(`etc/mdevctl.d/${PARENT[1]}/${U}`)).toBe(false)
    check(run(env, 'undefine', '-u', U), '', 'Error: No devices match the specified uuid\n', 1)
  })

  it('a failing callout: warnings per error, Undefine failed; --force proceeds', () => {
    root.defined(U, PARENT[0], DEVICE1)
    root.script('rc1.sh', (a) => (a['-e'] === 'pre' ? {code: 1, stderr: 'pre failed\n'} : {code: 0}))
    const env = root.env()
    const script = root.p('usr/lib/mdevctl/scripts.d/callouts/rc1.sh')
    check(
      run(env, 'undefine', '-u', U),
      '',
      'rc1.sh: pre failed\n' + WARN(`Undefine of ${U} on parent ${PARENT[0]} failed with error: Script '"${script}"' failed with status '1'`) + 'Error: Undefine failed\n',
      1,
    )
    expect(root.exists(`etc/mdevctl.d/${PARENT[0]}/${U}`)).toBe(true)
    check(
      run(env, 'undefine', '-u', U, '-f'),
      '',
      'rc1.sh: pre failed\n' + WARN(`Forcing operation 'undefine' despite callout failure. Error was: Script '"${script}"' failed with status '1'`, 'mdevctl::callouts'),
    )
    expect(root.exists(`etc/mdevctl.d/${PARENT[0]}/${U}`)).toBe(false)
  })
})

// --- start / stop on a fake sysfs -----------------------------------------------------------

describe('start and stop on a fake root', () => {
  const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9'
  const P = '0000:00:03.0'
  const T = 'i915-GVTg_V5_4'

  it('start writes the UUID to create; a generated UUID is printed', () => {
    root.parent(P, T, 1, 'vfio-pci', 'GVTg')
    const env = root.env()
    check(run(env, 'start', '-u', U, '-p', P, '-t', T), '')
    expect(root.read(`sys/class/mdev_bus/${P}/mdev_supported_types/${T}/create`)).toBe(U)
    root.uuids = ['59e8b599-afdd-4766-a59e-415ef4f5a492']
    check(run(env, 'start', '-p', P, '-t', T), '59e8b599-afdd-4766-a59e-415ef4f5a492\n')
  })

  it('parent lookup and the checks before create', () => {
    const env = root.env()
    check(run(env, 'start', '-u', U, '-p', P, '-t', T), '', "Error: Unable to find parent device '0000:00:03.0'\n", 1)
    root.parent('0000:2b:00.0', T, 0, 'vfio-pci', '')
    check(run(env, 'start', '-u', U, '-p', '0000:2B:00.0', '-t', T), '', "Error: Unable to find parent device '0000:2B:00.0'. Did you mean '0000:2b:00.0'?\n", 1)
    check(run(env, 'start', '-u', U, '-p', '0000:2b:00.0', '-t', 'other'), '', 'Error: Parent 0000:2b:00.0 does not support mdev type other\n', 1)
    check(run(env, 'start', '-u', U, '-p', '0000:2b:00.0', '-t', T), '', `Error: No available instances of ${T} on 0000:2b:00.0\n`, 1)
    fs.mkdirSync(root.p('sys/class/mdev_bus/plain'))
    check(run(env, 'start', '-u', U, '-p', 'plain', '-t', T), '', 'Error: Parent plain is not currently registered for mdev support\n', 1)
    check(run(env, 'start', '-u', U, '-p', P), '', 'Error: Device is insufficiently specified\n', 1)
    check(run(env, 'start', '-u', U), '', 'Error: Device is insufficiently specified\n', 1)
    check(run(env, 'start', '-u', U, '-t', T), '', "Error: can't provide type without parent\n", 1)
  })

  it('defined devices: by uuid, ambiguous, wrong type, already running', () => {
    root.parent(P, 'vfio_ap-passthrough', 1, 'vfio-ap', '')
    root.defined(U, P, DEVICE2.replace('i915-GVTg_V5_8', 'vfio_ap-passthrough'))
    const env = root.env()
    check(run(env, 'start', '-u', U, '-t', 'other'), '', `Error: Device ${U} already exists on parent ${P} with type vfio_ap-passthrough\n`, 1)
    check(run(env, 'start', '-u', U), '')
    root.defined(U, PARENT[0], DEVICE1)
    check(run(env, 'start', '-u', U), '', `Error: Multiple definitions found for device ${U}. Please specify a parent.\n`, 1)
    root.active(U, P, 'vfio_ap-passthrough')
    check(run(env, 'start', '-u', U, '-p', P), '', 'Error: Device already exists\n', 1)
    check(run(env, 'start', '-u', U, '-p', PARENT[0]), '', 'Error: Device exists under different parent\n', 1)
  })

  it('attributes: on a fake sysfs nothing appears after create, so removal fails too', () => {
    root.parent(P, 'vfio_ap-passthrough', 1, 'vfio-ap', '')
    root.defined(U, P, DEVICE1)
    check(run(root.env(), 'start', '-u', U), '', `Error: Error removing device ${U}\n\nCaused by:\n    No such file or directory (os error 2)\n`, 1)
  })

  it('stop writes 1 to remove; a device that is not active has no type', () => {
    root.active(U, P, T)
    const env = root.env()
    check(run(env, 'stop', '-u', U), '')
    expect(root.read(`sys/class/mdev_bus/${P}/${U}/remove`)).toBe('1')
    check(run(env, 'stop', '-u', '59e8b599-afdd-4766-a59e-415ef4f5a492'), '', 'Error: Device must have a defined mdev_type\n', 1)
  })

  it('start-parent-mdevs starts the auto definitions and only warns', () => {
    root.parent(P, 'vfio_ap-passthrough', 1, 'vfio-ap', '')
    root.defined(U, P, DEVICE2.replace('i915-GVTg_V5_8', 'vfio_ap-passthrough'))
    root.defined('59e8b599-afdd-4766-a59e-415ef4f5a492', P, DEVICE1)
    const env = root.env()
    check(run(env, 'start-parent-mdevs', P), '')
    expect(root.read(`sys/class/mdev_bus/${P}/mdev_supported_types/vfio_ap-passthrough/create`)).toBe(U)
    check(run(env, 'start-parent-mdevs', 'nothing-here'), '')
    root.active(U, P, 'vfio_ap-passthrough')
    check(run(env, 'start-parent-mdevs', P), '', WARN('Device already exists'))
  })
})

// --- callouts ----------------------------------------------------------------------------------

describe('callouts', () => {
  const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9'
  const P = '0000:00:03.0'
  const T = 'i915-GVTg_V5_4'
  const CONF = `{"mdev_type":"${T}","start":"manual","attrs":[]}`

  it('the 1.4.0 sequence: capabilities probe, pre, post, notify', () => {
    root.script('50-logger', () => ({}))
    root.script('notify', () => ({code: 3}), 'etc/mdevctl.d/scripts.d/notifiers')
    check(run(root.env(), 'define', '-u', U, '-p', P, '-t', T), '')
    const args = (e: string, a: string, s: string) => `-t ${T} -e ${e} -a ${a} -s ${s} -u ${U} -p ${P}`
    expect(root.calls).toEqual([
      {
        script: '/usr/lib/mdevctl/scripts.d/callouts/50-logger',
        args: args('get', 'capabilities', 'none'),
        stdin:
          '{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],"events":["pre","post","notify","get","live"]}}',
      },
      {script: '/usr/lib/mdevctl/scripts.d/callouts/50-logger', args: args('pre', 'define', 'none'), stdin: CONF},
      {script: '/usr/lib/mdevctl/scripts.d/callouts/50-logger', args: args('post', 'define', 'success'), stdin: CONF},
      {script: '/etc/mdevctl.d/scripts.d/notifiers/notify', args: args('notify', 'define', 'success'), stdin: null},
    ])
  })

  it('rc 2 means "not my type": the next script, then /etc; rc 1 fails; post codes are ignored', () => {
    root.script('00-skip', () => ({code: 2, stderr: 'never shown\n'}))
    root.script('10-fail', (a) => ({code: a['-e'] === 'pre' ? 1 : 2, stderr: `failing ${a['-e']} ${a['-a']} with 1\n`}), 'etc/mdevctl.d/scripts.d/callouts')
    const env = root.env()
    const script = root.p('etc/mdevctl.d/scripts.d/callouts/10-fail')
    check(run(env, 'define', '-u', U, '-p', P, '-t', T), '', `10-fail: failing pre define with 1\nError: Script '"${script}"' failed with status '1'\n`, 1)
    expect(root.exists(`etc/mdevctl.d/${P}/${U}`)).toBe(false)
    check(
      run(env, 'define', '-u', U, '-p', P, '-t', T, '--force'),
      '',
      `10-fail: failing pre define with 1\n${WARN(`Forcing operation 'define' despite callout failure. Error was: Script '"${script}"' failed with status '1'`, 'mdevctl::callouts')}`,
    )
    expect(root.read(`etc/mdevctl.d/${P}/${U}`)).toBe(CONFIG(T, 'manual'))
  })

  it('a versioned script is used for every event; any non-zero status fails, even 2', () => {
    root.script('ver', (a) => {
      if (a['-e'] === 'get') return {stdout: '{"supports":{"version":2,"actions":["define","start","modify","attributes"],"events":["pre","post","get","shout"]}}\0\0'}
      return {code: a['-e'] === 'pre' ? 2 : 0, stderr: 'two\nlines\n'}
    })
    const env = root.env()
    const script = root.p('usr/lib/mdevctl/scripts.d/callouts/ver')
    check(
      run(env, 'define', '-u', U, '-p', P, '-t', T),
      '',
      WARN(`Callout script "${script}" provides unknown Event type`, 'mdevctl::callouts') + `ver: two\nlines\nError: Script '"${script}"' failed with status '2'\n`,
      1,
    )
    root.defined(U, P, DEVICE2)
    const r = run(env, 'undefine', '-u', U)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`failed with error: Script "${script}" does not support action 'Undefine'\n`)
  })

  it('get attributes of an active device during define; failures abort it', () => {
    root.active(U, P, T)
    root.script('attrs', (a) => (a['-e'] === 'get' && a['-a'] === 'attributes' ? {stdout: '[{"assign_adapter":"5"},{"b":"c"}]'} : {code: a['-e'] === 'get' ? 2 : 0}))
    const env = root.env()
    check(run(env, 'define', '-u', U), '')
    expect(root.read(`etc/mdevctl.d/${P}/${U}`)).toBe(CONFIG(T, 'manual', '[\n    {\n      "assign_adapter": "5"\n    },\n    {\n      "b": "c"\n    }\n  ]'))
    fs.unlinkSync(root.p(`etc/mdevctl.d/${P}/${U}`))
    root.scripts.set('/usr/lib/mdevctl/scripts.d/callouts/attrs', (a) => (a['-a'] === 'attributes' ? {stdout: 'not json'} : {code: a['-e'] === 'get' ? 2 : 0}))
    check(run(env, 'define', '-u', U), '', 'Error: Invalid JSON received from callout script\n\nCaused by:\n    expected ident at line 1 column 2\n', 1)
  })
})

// --- clap 4: usage errors, help and version -----------------------------------------------------

describe('command line (clap 4)', () => {
  const TRY = "\n\nFor more information, try '--help'.\n"
  const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9'
  const err = (env: MdevctlEnv, argv: string[], stderr: string) => check(run(env, ...argv), '', stderr, 2)

  it('no arguments: the help on stderr, exit 2', () => {
    const r = run(root.env())
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(run(root.env(), '-h').stdout)
  })

  it('unknown subcommands, arguments and values', () => {
    const env = root.env()
    err(env, ['foo'], "error: unrecognized subcommand 'foo'\n\nUsage: mdevctl <COMMAND>" + TRY)
    err(env, ['lst'], "error: unrecognized subcommand 'lst'\n\n  tip: some similar subcommands exist: 'stop', 'list'\n\nUsage: mdevctl <COMMAND>" + TRY)
    err(env, ['lis'], "error: unrecognized subcommand 'lis'\n\n  tip: a similar subcommand exists: 'list'\n\nUsage: mdevctl <COMMAND>" + TRY)
    err(env, ['list', 'foo'], "error: unexpected argument 'foo' found\n\nUsage: mdevctl list [OPTIONS]" + TRY)
    err(env, ['list', '-x'], "error: unexpected argument '-x' found\n\nUsage: mdevctl list [OPTIONS]" + TRY)
    err(env, ['list', '--dumpjsn'], "error: unexpected argument '--dumpjsn' found\n\n  tip: a similar argument exists: '--dumpjson'\n\nUsage: mdevctl list --dumpjson" + TRY)
    err(env, ['--uuid', 'x', 'list'], "error: unexpected argument '--uuid' found\n\n  tip: 'list --uuid' exists\n\nUsage: mdevctl <COMMAND>" + TRY)
    err(env, ['list', '--defined=yes'], "error: unexpected value 'yes' for '--defined' found; no more were expected\n\nUsage: mdevctl list --defined" + TRY)
    err(env, ['stop', '-V'], "error: unexpected argument '-V' found\n\nUsage: mdevctl stop [OPTIONS] --uuid <UUID>" + TRY)
  })

  it('values: UUIDs, indexes, missing values', () => {
    const env = root.env()
    err(env, ['list', '-u', 'notauuid'], "error: invalid value 'notauuid' for '--uuid <UUID>': invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1" + TRY)
    err(env, ['list', '-u', '1234'], "error: invalid value '1234' for '--uuid <UUID>': invalid length: expected length 32 for simple format, found 4" + TRY)
    err(env, ['list', '-u'], "error: a value is required for '--uuid <UUID>' but none was supplied" + TRY)
    err(env, ['list', '-u', '-d'], "error: a value is required for '--uuid <UUID>' but none was supplied" + TRY)
    err(env, ['modify', '-u', U, '--delattr', '-i', 'x'], "error: invalid value 'x' for '--index <INDEX>': invalid digit found in string" + TRY)
    err(env, ['modify', '-u', U, '--delattr', '-i', '4294967296'], "error: invalid value '4294967296' for '--index <INDEX>': 4294967296 is not in 0..=4294967295" + TRY)
    err(env, ['define', '-p', 'P', '--jsonfile='], "error: a value is required for '--jsonfile <JSONFILE>' but none was supplied" + TRY)
  })

  it('required arguments, conflicts, repeats', () => {
    const env = root.env()
    err(env, ['define'], 'error: the following required arguments were not provided:\n  --uuid <UUID>\n  --parent <PARENT>\n\nUsage: mdevctl define --uuid <UUID> --parent <PARENT>' + TRY)
    err(env, ['stop'], 'error: the following required arguments were not provided:\n  --uuid <UUID>\n\nUsage: mdevctl stop --uuid <UUID>' + TRY)
    const MODIFY_GROUP = '<--auto|--manual|--addattr <attr_name>|--delattr|--jsonfile <JSONFILE>>'
    err(env, ['modify', '-u', U, '-t', 'T'], `error: the following required arguments were not provided:\n  ${MODIFY_GROUP}\n\nUsage: mdevctl modify --uuid <UUID> --type <type> ${MODIFY_GROUP}` + TRY)
    err(env, ['modify', '-u', U, '--auto', '--manual'], `error: the argument '--auto' cannot be used with '--manual'\n\nUsage: mdevctl modify --uuid <UUID> ${MODIFY_GROUP}` + TRY)
    err(env, ['modify', '-u', U, '--addattr', 'a', '--delattr'], `error: the argument '--addattr <attr_name>' cannot be used with '--delattr'\n\nUsage: mdevctl modify --uuid <UUID> --value <attr_value> ${MODIFY_GROUP}` + TRY)
    err(env, ['modify', '-u', U, '--addattr', 'a'], `error: the following required arguments were not provided:\n  --value <attr_value>\n\nUsage: mdevctl modify --uuid <UUID> --value <attr_value> ${MODIFY_GROUP}` + TRY)
    // --live requires --jsonfile, but --auto conflicts with it (the group), which waives the requirement.
    check(run(env, 'modify', '-u', U, '--live', '--auto'), '', "Error: 'auto' cannot be changed on active mdev\n", 1)
    err(env, ['modify', '-u', U, '--live', '--jsonfile', 'f', '-i', '1'], `error: the argument '--live' cannot be used with '--index <INDEX>'\n\nUsage: mdevctl modify --uuid <UUID> --live ${MODIFY_GROUP}` + TRY)
    err(env, ['define', '-p', 'P', '--jsonfile', 'f', '-t', 'T'], "error: the argument '--jsonfile <JSONFILE>' cannot be used with '--type <type>'\n\nUsage: mdevctl define --parent <PARENT> --jsonfile <JSONFILE>" + TRY)
    err(env, ['define', '-p', 'P', '-t', 'T', '--jsonfile', 'f'], "error: the argument '--type <type>' cannot be used with '--jsonfile <JSONFILE>'\n\nUsage: mdevctl define --parent <PARENT> --type <type>" + TRY)
    err(env, ['list', '-d', '-d'], "error: the argument '--defined' cannot be used multiple times\n\nUsage: mdevctl list [OPTIONS]" + TRY)
    err(env, ['start', '-p', 'a', '--parent=b'], "error: the argument '--parent <PARENT>' cannot be used multiple times\n\nUsage: mdevctl start [OPTIONS]" + TRY)
  })

  it('the help subcommand', () => {
    const env = root.env()
    check(run(env, 'help'), run(env, '--help').stdout)
    check(run(env, 'help', 'list'), run(env, 'list', '--help').stdout)
    err(env, ['help', 'foo'], "error: unrecognized subcommand 'foo'\n\nUsage: mdevctl <COMMAND>" + TRY)
    check(run(env, 'help', 'help'), 'Print this message or the help of the given subcommand(s)\n\nUsage: mdevctl help [COMMAND]...\n\nArguments:\n  [COMMAND]...  Print help for the subcommand(s)\n')
  })

  it('version: mdevctl, the list subcommand, lsmdev', () => {
    check(run(root.env(), '--version'), 'mdevctl 1.4.0\n')
    check(run(root.env(), '-V'), 'mdevctl 1.4.0\n')
    check(run(root.env(), 'list', '-V'), 'mdevctl-list 1.4.0\n')
  })

  it('mdevctl --help', () => {
    check(
      run(root.env(), '--help'),
      `A mediated device management utility for Linux

Usage: mdevctl <COMMAND>

Commands:
  define    Define a persistent mediated device
  undefine  Undefine a persistent mediated device
  modify    Modify the definition of a mediated device
  start     Start a mediated device
  stop      Stop a mediated device
  list      List mediated devices
  types     List available mediated device types
  help      Print this message or the help of the given subcommand(s)

Options:
  -h, --help     Print help
  -V, --version  Print version
`,
    )
  })

  it('short and long help of a subcommand', () => {
    check(
      run(root.env(), 'list', '-h'),
      `List mediated devices

Usage: mdevctl list [OPTIONS]

Options:
  -d, --defined          Show defined devices
      --dumpjson         Output device list in json format
  -v, --verbose          Print additional information about the devices
  -u, --uuid <UUID>      List devices matching the specified UUID
  -p, --parent <PARENT>  List devices associated with the specified Parent device
  -h, --help             Print help (see more with '--help')
  -V, --version          Print version
`,
    )
    check(
      run(root.env(), 'stop', '--help'),
      `Stop a mediated device

Usage: mdevctl stop [OPTIONS] --uuid <UUID>

Options:
  -u, --uuid <UUID>  UUID of the device to stop
  -f, --force        Force command execution even if device-specific callout script fails
                     NOTE: only use this option if you are sure you know what you are doing
  -h, --help         Print help
`,
    )
    check(
      run(root.env(), 'types', '--help'),
      `List available mediated device types

Specifying a 'parent' lists only the types provided by the given parent device. The 'dumpjson'
option provides output in machine readable JSON format.

Usage: mdevctl types [OPTIONS]

Options:
  -p, --parent <PARENT>
          Show supported types for the specified parent

      --dumpjson
          Output mdev types list in JSON format

  -h, --help
          Print help (see a summary with '-h')
`,
    )
  })

  it('the self-check runs first, even for --version', () => {
    fs.rmdirSync(root.p('usr/lib/mdevctl/scripts.d/notifiers'))
    const msg = `Error: Required directory "${root.p('usr/lib/mdevctl/scripts.d/notifiers')}" doesn't exist. This may indicate a packaging or installation error\n`
    check(run(root.env(), '--version'), '', msg, 1)
    check(run(root.env(), 'list'), '', msg, 1)
  })
})

describe('UUID and JSON parsing (uuid and serde_json crates)', () => {
  it('uuid forms and errors', () => {
    expect(parseUuid('AAAAAAAA-2222-3333-4444-555555555555')).toEqual({uuid: 'aaaaaaaa-2222-3333-4444-555555555555'})
    expect(parseUuid('urn:uuid:aaaaaaaa-2222-3333-4444-555555555555')).toEqual({uuid: 'aaaaaaaa-2222-3333-4444-555555555555'})
    expect(parseUuid('aaaaaaaa-2222-3333-4444-5555555555')).toEqual({error: 'invalid group length in group 4: expected 12, found 10'})
    expect(parseUuid('aaaaaaa-22222-3333-4444-555555555555')).toEqual({error: 'invalid group length in group 0: expected 8, found 7'})
    expect(parseUuid('a-b')).toEqual({error: 'invalid group count: expected 5, found 2'})
  })

  it('serde_json error positions', () => {
    const msg = (s: string) => {
      try {
        parseJson(s)
        return 'ok'
      } catch (e) {
        return (e as Error).message
      }
    }
    expect(msg('')).toBe('EOF while parsing a value at line 1 column 0')
    expect(msg('[1,]')).toBe('trailing comma at line 1 column 4')
    expect(msg('[1 2]')).toBe('expected `,` or `]` at line 1 column 4')
    expect(msg('{"a" 1}')).toBe('expected `:` at line 1 column 6')
    expect(msg('"a\nb"')).toBe('control character (\\u0000-\\u001F) found while parsing a string at line 2 column 0')
    expect(msg('01')).toBe('invalid number at line 1 column 2')
    expect(msg('"\\x"')).toBe('invalid escape at line 1 column 3')
    expect(msg('[')).toBe('EOF while parsing a list at line 1 column 1')
  })
})

// --- the emulated host: the kernel and ap-check --------------------------------------------------

describe('on the emulated host (vfio_ap, ap-check)', () => {
  let host: Host
  let vfs: Vfs
  let env: MdevctlEnv
  const U = '11111111-2222-3333-4444-555555555555'
  const V = 'aaaaaaaa-2222-3333-4444-555555555555'
  const AP_CHECK = '"/usr/lib/mdevctl/scripts.d/callouts/ap-check"'
  const FAILED = `Error: Script '${AP_CHECK}' failed with status '255'\n`
  const freeMasks = () => {
    vfs.write('/sys/bus/ap/apmask', '-5,-6\n')
    vfs.write('/sys/bus/ap/aqmask', '-4,-0x47,-0xab,-0xff\n')
  }
  const defineWith = (uuid: string, auto: boolean, ...attrs: Array<[string, string]>) => {
    check(run(env, 'define', '-u', uuid, '-p', 'matrix', '-t', 'vfio_ap-passthrough', ...(auto ? ['-a'] : [])), '')
    for (const [k, v] of attrs) check(run(env, 'modify', '-u', uuid, '--addattr', k, '--value', v), '')
  }

  beforeEach(() => {
    host = preset('vfio-ap-doc').build('h')
    vfs = hostVfs(host)
    const uuids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']
    env = {fs: vfs, root: '', prog: 'mdevctl', callout: hostCallout(vfs), newUuid: () => uuids.shift()!}
  })

  it('types: the vfio_ap-passthrough type of the matrix device', () => {
    check(run(env, 'types'), 'matrix\n  vfio_ap-passthrough\n    Available instances: 65536\n    Device API: vfio-ap\n    Name: VFIO AP Passthrough Device\n')
  })

  it('define and modify write /etc/mdevctl.d/matrix/<uuid> without a final newline', () => {
    defineWith(U, false, ['assign_adapter', '5'], ['assign_domain', '0x47'])
    expect(host.persistent.files[`/etc/mdevctl.d/matrix/${U}`]).toBe(
      CONFIG('vfio_ap-passthrough', 'manual', '[\n    {\n      "assign_adapter": "5"\n    },\n    {\n      "assign_domain": "0x47"\n    }\n  ]'),
    )
    check(run(env, 'list', '-d'), `${U} matrix vfio_ap-passthrough manual\n`)
    check(run(env, 'undefine', '-u', U), '')
    expect(host.persistent.files[`/etc/mdevctl.d/matrix/${U}`]).toBeUndefined()
  })

  it('start writes the attributes in order; list shows them through ap-check; stop removes', () => {
    freeMasks()
    defineWith(U, false, ['assign_adapter', '5'], ['assign_domain', '0x47'], ['assign_control_domain', '0x47'])
    check(run(env, 'start', '-u', U), '')
    expect(vfs.read(`/sys/devices/vfio_ap/matrix/${U}/matrix`)).toBe('05.0047\n')
    expect(vfs.read(`/sys/devices/vfio_ap/matrix/${U}/control_domains`)).toBe('0047\n')
    check(
      run(env, 'list', '-v'),
      `${U} matrix vfio_ap-passthrough manual (defined)\n  Attrs:\n    @{0}: {"assign_adapter":"5"}\n    @{1}: {"assign_domain":"71"}\n    @{2}: {"assign_control_domain":"71"}\n`,
    )
    check(run(env, 'list', '-d'), `${U} matrix vfio_ap-passthrough manual (active)\n`)
    check(run(env, 'start', '-u', U), '', 'Error: Device already exists\n', 1)
    check(run(env, 'stop', '-u', U), '')
    expect(host.runtime.mdevs).toEqual([])
    check(run(env, 'list'), '')
  })

  it('a transient start prints the UUID; define of the running device takes its attributes', () => {
    freeMasks()
    check(run(env, 'start', '-p', 'matrix', '-t', 'vfio_ap-passthrough'), '00000000-0000-4000-8000-000000000001\n')
    vfs.write('/sys/devices/vfio_ap/matrix/00000000-0000-4000-8000-000000000001/assign_adapter', '6')
    vfs.write('/sys/devices/vfio_ap/matrix/00000000-0000-4000-8000-000000000001/assign_domain', '0xab')
    check(run(env, 'define', '-u', '00000000-0000-4000-8000-000000000001'), '')
    expect(host.persistent.files['/etc/mdevctl.d/matrix/00000000-0000-4000-8000-000000000001']).toBe(
      CONFIG('vfio_ap-passthrough', 'manual', '[\n    {\n      "assign_adapter": "6"\n    },\n    {\n      "assign_domain": "171"\n    }\n  ]'),
    )
  })

  it('pre start: ap-check refuses APQNs the active masks reserve for the host', () => {
    defineWith(U, false, ['assign_adapter', '5'], ['assign_domain', '4'], ['assign_domain', '0xab'])
    check(
      run(env, 'start', '-u', U),
      '',
      'ap-check: APQN 5.4 is not allowed for vfio_ap-passthrough use by the active ap bus mask settings\nAPQN 5.171 is not allowed for vfio_ap-passthrough use by the active ap bus mask settings\n' +
        FAILED,
      1,
    )
    expect(host.runtime.mdevs).toEqual([])
  })

  it('--force past ap-check: the kernel refuses, mdevctl removes the device again', () => {
    defineWith(U, false, ['assign_adapter', '5'], ['assign_domain', '4'])
    check(
      run(env, 'start', '-u', U, '--force'),
      '',
      'ap-check: APQN 5.4 is not allowed for vfio_ap-passthrough use by the active ap bus mask settings\n' +
        WARN(`Forcing operation 'start' despite callout failure. Error was: Script '${AP_CHECK}' failed with status '255'`, 'mdevctl::callouts') +
        'Error: Failed to write 4 to attribute assign_domain\n\nCaused by:\n    Cannot assign requested address (os error 99)\n',
      1,
    )
    expect(host.runtime.mdevs).toEqual([])
  })

  it('rollback at the first failing attribute, without ap-check', () => {
    const noCallout: MdevctlEnv = {...env, callout: () => ({code: 2, stdout: '', stderr: ''})}
    freeMasks()
    check(run(noCallout, 'start', '-u', V, '-p', 'matrix', '-t', 'vfio_ap-passthrough'), '')
    vfs.write(`/sys/devices/vfio_ap/matrix/${V}/assign_adapter`, '5')
    vfs.write(`/sys/devices/vfio_ap/matrix/${V}/assign_domain`, '4')
    defineWith(U, false, ['assign_adapter', '6'], ['assign_domain', '4'], ['assign_adapter', '5'], ['assign_control_domain', '4'])
    check(
      run(noCallout, 'start', '-u', U),
      '',
      'Error: Failed to write 5 to attribute assign_adapter\n\nCaused by:\n    Address already in use (os error 98)\n',
      1,
    )
    expect(host.runtime.mdevs.map((m) => m.uuid)).toEqual([V])
    defineWith('bbbbbbbb-2222-3333-4444-555555555555', false, ['assign_bogus', '1'])
    check(run(noCallout, 'start', '-u', 'bbbbbbbb-2222-3333-4444-555555555555'), '', "Error: Invalid attribute 'assign_bogus'\n", 1)
    expect(host.runtime.mdevs.map((m) => m.uuid)).toEqual([V])
  })

  it('pre start: ap-check refuses APQNs of a running mdev', () => {
    freeMasks()
    defineWith(V, false, ['assign_adapter', '5'], ['assign_domain', '4'])
    check(run(env, 'start', '-u', V), '')
    defineWith(U, false, ['assign_adapter', '5'], ['assign_adapter', '6'], ['assign_domain', '4'])
    check(run(env, 'start', '-u', U), '', `ap-check: APQN 5.4 already in use by ${V}\n` + FAILED, 1)
  })

  it('pre start: control domains need a usage domain', () => {
    freeMasks()
    defineWith(U, false, ['assign_adapter', '5'], ['assign_control_domain', '4'])
    check(run(env, 'start', '-u', U), '', 'ap-check: At least one usage domain must be specified\n' + FAILED, 1)
  })

  it('pre define/modify: overlapping auto definitions and the persistent masks', () => {
    // Without 41-ap.rules the persistent masks are the active ones: all host.
    check(run(env, 'define', '-u', U, '-p', 'matrix', '-t', 'vfio_ap-passthrough', '-a'), '')
    check(
      run(env, 'modify', '-u', U, '--addattr', 'assign_adapter', '--value', '5'),
      '',
      '',
    )
    check(
      run(env, 'modify', '-u', U, '--addattr', 'assign_domain', '--value', '4'),
      '',
      'ap-check: APQN 5.4 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n' + FAILED,
      1,
    )
    freeMasks()
    check(run(env, 'modify', '-u', U, '--addattr', 'assign_domain', '--value', '4'), '')
    // A second auto definition overlapping the first.
    const jf = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-json')) + '/v.json'
    fs.writeFileSync(jf, '{"mdev_type":"vfio_ap-passthrough","start":"auto","attrs":[{"assign_adapter":"5,6"},{"assign_domain":"4"}]}')
    const withFile: MdevctlEnv = {...env, readJsonFile: (p) => fs.readFileSync(p)}
    check(run(withFile, 'define', '-u', V, '-p', 'matrix', '--jsonfile', jf), '', `ap-check: APQN 5.4 is defined for autostart by ${U}\n` + FAILED, 1)
    // A manual one may overlap.
    fs.writeFileSync(jf, '{"mdev_type":"vfio_ap-passthrough","start":"manual","attrs":[{"assign_adapter":"5,6"},{"assign_domain":"4"}]}')
    check(run(withFile, 'define', '-u', V, '-p', 'matrix', '--jsonfile', jf), '')
    fs.rmSync(path.dirname(jf), {recursive: true})
    // ... until it is made auto.
    check(run(env, 'modify', '-u', V, '--auto'), '', `ap-check: APQN 5.4 is defined for autostart by ${U}\n` + FAILED, 1)
  })

  it('the persistent masks come from 41-ap.rules', () => {
    freeMasks()
    host.persistent.files['/etc/udev/rules.d/41-ap.rules'] =
      '# Generated by chzdev\nACTION=="change", SUBSYSTEM=="ap", DEVPATH=="/devices/ap", ENV{BINDINGS}=="complete", ENV{COMPLETECOUNT}=="1", GOTO="cfg_ap"\nGOTO="end_ap"\n\nLABEL="cfg_ap"\n\n' +
      'ATTR{../../bus/ap/apmask}="0x0400000000000000000000000000000000000000000000000000000000000000"\n' +
      'ATTR{../../bus/ap/aqmask}="0x0800000000000000000000000000000000000000000000000000000000000000"\n' +
      'RUN{builtin}+="kmod load vfio_ap"\n\nLABEL="end_ap"\n'
    defineWith(U, false, ['assign_adapter', '5'], ['assign_adapter', '6'], ['assign_domain', '4'])
    check(
      run(env, 'modify', '-u', U, '--auto'),
      '',
      'ap-check: APQN 5.4 is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings\n' + FAILED,
      1,
    )
  })

  it('modify --live rewrites the running matrix through ap_config', () => {
    freeMasks()
    check(run(env, 'start', '-u', U, '-p', 'matrix', '-t', 'vfio_ap-passthrough'), '')
    const withFile: MdevctlEnv = {...env, readJsonFile: () => '{"mdev_type":"vfio_ap-passthrough","start":"manual","attrs":[{"assign_adapter":"6"},{"assign_domain":"0xab"},{"assign_domain":"0xff"}]}'}
    check(run(withFile, 'modify', '-u', U, '--live', '--jsonfile', 'new.json'), '')
    expect(vfs.read(`/sys/devices/vfio_ap/matrix/${U}/matrix`)).toBe('06.00ab\n06.00ff\n')
    check(run(withFile, 'modify', '-u', U, '--live', '--defined', '--jsonfile', 'new.json'), '', `Error: Mediated device matrix/${U} is not defined\n`, 1)
  })
})
