// Golden tests for spec inputs the host model cannot produce (files a real
// kernel may lack or refuse): lszcrypt and chzcrypt run against hand-made
// sysfs trees, checking the remaining error messages of lszcrypt.md §4, §7,
// §8 and §11.

import {describe, it} from 'vitest'

import {KernelError} from '../../src/core/errors.js'
import {type DirNode, type Node, dir, link, ro, rw, wo} from '../../src/sysfs/vfs.js'
import {fixture, lszcrypt} from '../helpers.js'
import {check, lpar, runOn} from './util.js'

const HEADER_V = `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     
--------------------------------------------------------------------------------------------
`
const ZEROS = '0'.repeat(62)

/** /sys with bus/ap attributes and the given card directories (also linked from bus/ap/devices). */
function sysfs(bus: Record<string, Node>, cards: Record<string, DirNode>): DirNode {
  const links: Record<string, Node> = {}
  for (const c of Object.keys(cards)) links[c] = link(`../../../devices/ap/${c}`)
  return dir({
    bus: dir({ap: dir({...bus, devices: dir(links)})}),
    devices: dir({ap: dir(cards)}),
  })
}

const file = (s: string) => ro(() => s)

/** A card with a zcrypt driver; `extra` adds or replaces attributes (undefined removes one). */
function card(fn: string, hwtype: string, type: string | null, extra: Record<string, Node | undefined> = {}): DirNode {
  const base: Record<string, Node | undefined> = {
    ap_functions: file(fn + '\n'),
    hwtype: file(hwtype + '\n'),
    depth: file('8\n'),
    config: file('1\n'),
    chkstop: file('0\n'),
    request_count: file('0\n'),
    requestq_count: file('0\n'),
    pendingq_count: file('0\n'),
    max_msg_size: file('12288\n'),
    driver: link('../../../bus/ap/drivers/cex4card'),
    ...(type === null ? {} : {type: file(type + '\n'), online: file('1\n')}),
    ...extra,
  }
  return dir(Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, Node>)
}

function queue(extra: Record<string, Node | undefined> = {}): DirNode {
  const base: Record<string, Node | undefined> = {
    online: file('1\n'),
    config: file('1\n'),
    chkstop: file('0\n'),
    request_count: file('0\n'),
    requestq_count: file('0\n'),
    pendingq_count: file('0\n'),
    driver: link('../../../../bus/ap/drivers/cex4queue'),
    ...extra,
  }
  return dir(Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, Node>)
}

const withQueue = (c: DirNode, name: string, q: DirNode): DirNode => {
  const d: DirNode = {kind: 'dir', list: () => [...c.list(), name], get: (n) => (n === name ? q : c.get(n))}
  return d
}

describe('§8 lszcrypt -d: masks not available', () => {
  it('Control domain mask not available (no QCI)', async () => {
    const w = await fixture('example-a.yaml')
    lpar(w).qci = false
    check(lszcrypt(w, '-d'), '', 'lszcrypt: Control domain mask not available.\n', 1)
  })

  it('Usage domain mask not available', () => {
    const sys = sysfs({ap_control_domain_mask: file('0xff' + ZEROS + '\n'), ap_usage_domain_mask: file('not supported\n')}, {})
    check(runOn(sys, 'lszcrypt', '-d'), '', 'lszcrypt: Usage domain mask not available.\n', 1)
  })
})

describe('§4.3 queue rows', () => {
  it("the card's ap_functions cannot be read (-V)", () => {
    const c = withQueue(card('0x92800000', '11', 'CEX5C', {ap_functions: undefined}), '01.0005', queue())
    check(
      runOn(sysfs({}, {card01: c}), 'lszcrypt', '-V', '01.0005'),
      HEADER_V,
      'lszcrypt: Error - Read of sysfs attribute /sys/devices/ap/card01/ap_functions failed.\n',
      1,
    )
  })

  it("SESTAT 'error' when the queue's ap_functions cannot be read", () => {
    const c = withQueue(card('0x06800000', '14', 'CEX8P'), '03.0044', queue())
    check(
      runOn(sysfs({features: file('APSC APXA QACT RC8A APSB\n')}, {card03: c}), 'lszcrypt', '-V', '03.0044'),
      `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER      SESTAT     
--------------------------------------------------------------------------------------------------------
` + '03.0044  CEX8P EP11-Coproc online            0        0     14     08 -----XN-F- cex4queue   error      \n',
    )
  })
})

describe('§7 lszcrypt -c: files missing or unreadable', () => {
  it('mkvps cannot be opened', () => {
    const c = withQueue(card('0x92800000', '11', 'CEX5C'), '01.0005', queue({mkvps: wo(() => undefined)}))
    check(
      runOn(sysfs({}, {card01: c}), 'lszcrypt', '-c', '01.0005'),
      'queue 01.0005 capabilities:\n',
      'lszcrypt: Error - failed to open sysfs file /sys/devices/ap/card01/01.0005/mkvps.\n',
      1,
    )
  })

  it('empty se_bind and se_associate read as error', () => {
    const c = withQueue(card('0x06800000', '14', 'CEX8P'), '03.0041', queue({se_bind: file(''), se_associate: file('\n')}))
    check(
      runOn(sysfs({}, {card03: c}), 'lszcrypt', '-c', '03.0041'),
      'queue 03.0041 capabilities:\nSE bind state: error\nSE association state: error\n',
    )
  })

  it('a CEX card whose ap_functions names no mode', () => {
    check(
      runOn(sysfs({}, {card01: card('0x00800000', '14', 'CEX8C')}), 'lszcrypt', '-c', '1'),
      'card01 provides capability for:\n' +
        'Detailed capability information for card01 (hardware type 14) is not available.\n' +
        'AP bus max message size limit 12 Kb\n',
    )
  })

  it('an unknown hwtype', () => {
    check(
      runOn(sysfs({}, {card01: card('0x92800000', '5', 'CEX1C')}), 'lszcrypt', '-c', '1'),
      'card01 provides capability for:\nDetailed capability information for card01 (hardware type 5) is not available.\n',
    )
  })

  it('old types: 6/8 accelerators, 7/9 coprocessors', () => {
    const run = (fn: string, hw: string) => runOn(sysfs({}, {card01: card(fn, hw, 'CEX2X')}), 'lszcrypt', '-c', '1')
    check(run('0x68000000', '6'), 'card01 provides capability for:\nRSA 4K Clear Key\n')
    check(run('0x08000000', '8'), 'card01 provides capability for:\nRSA 2K Clear Key\n')
    check(run('0x90800000', '7'), 'card01 provides capability for:\nRSA 4K Clear Key\nCCA Secure Key (full function set)\nLong RNG\n')
    check(run('0x90000000', '9'), 'card01 provides capability for:\nRSA 4K Clear Key\nCCA Secure Key\nLong RNG\n')
  })
})

describe('§11.4 / §11.5 chzcrypt: the kernel does not take the value', () => {
  it('online reads back unchanged', () => {
    const c = card('0x92800000', '11', 'CEX5C', {online: rw(() => '1\n', () => undefined)})
    check(
      runOn(sysfs({}, {card01: c}), 'chzcrypt', '-d', '-V', '1'),
      'Setting cryptographic device card01 offline\n',
      'chzcrypt: Error - unable to set cryptographic device card01 offline.\n',
      1,
    )
  })

  it('config cannot be read (older zcrypt driver)', () => {
    const c = card('0x92800000', '11', 'CEX5C', {config: undefined})
    check(
      runOn(sysfs({}, {card01: c}), 'chzcrypt', '--config-on', '1'),
      '',
      "chzcrypt: Error - can't read /sys/bus/ap/devices/card01/config.\nFile may not exist due to an older zcrypt device driver.\n",
      1,
    )
  })

  it('config reads back unchanged', () => {
    const c = card('0x92800000', '11', 'CEX5C', {config: rw(() => '0\n', () => undefined)})
    check(
      runOn(sysfs({}, {card01: c}), 'chzcrypt', '--config-on', '-V', '1'),
      'Setting cryptographic device card01 config on\n',
      'chzcrypt: Error - unable to set cryptographic device card01 config on.\n',
      1,
    )
  })
})

describe('§11.7 chzcrypt SE operations: kernel answers the model does not give', () => {
  const APSB = {features: file('APSC APXA QACT RC8A APSB\n')}
  // §11.7 names the files as <path>/se_bind; <path> is taken to be the queue
  // directory checked in step 3, /sys/bus/ap/devices/cardXX/XX.YYYY.
  const Q = '/sys/bus/ap/devices/card03/03.0043'
  const se = (attrs: Record<string, Node>) =>
    sysfs(APSB, {card03: withQueue(card('0x06800000', '14', 'CEX8P'), '03.0043', queue(attrs))})
  const err = (m: string) => `chzcrypt: Error - ${m}\n`

  it('bind: the state does not become bound', () => {
    const sys = se({se_bind: rw(() => 'unbound\n', () => undefined)})
    check(runOn(sys, 'chzcrypt', '--se-bind', '03.0043'), '', err("Failure binding queue device 03.0043 (state 'unbound' found)."), 1)
  })

  it('unbind: timeout', () => {
    const sys = se({se_bind: rw(() => 'bound\n', () => undefined)})
    check(runOn(sys, 'chzcrypt', '--se-unbind', '03.0043'), '', err('Failure unbinding queue device 03.0043 (timeout after 30 s).'), 1)
  })

  it('associate: falls back to unassociated', () => {
    const sys = se({se_associate: rw(() => 'unassociated\n', () => undefined)})
    check(
      runOn(sys, 'chzcrypt', '--se-associate', '5', '03.0043'),
      '',
      err("Failure associating queue device 03.0043 (state 'unassociated' found)."),
      1,
    )
  })

  it('associate: stays pending (timeout)', () => {
    let state = 'unassociated\n'
    const sys = se({se_associate: rw(() => state, () => void (state = 'association pending\n'))})
    check(runOn(sys, 'chzcrypt', '--se-associate', '5', '03.0043'), '', err('Failure associating queue device 03.0043 (timeout after 30 s).'), 1)
  })

  it('associate: ends associated with another index', () => {
    let state = 'unassociated\n'
    const sys = se({se_associate: rw(() => state, () => void (state = 'associated 9\n'))})
    check(
      runOn(sys, 'chzcrypt', '--se-associate', '5', '03.0043'),
      '',
      err("Failure associating queue device 03.0043 (state 'associated 9' found)."),
      1,
    )
  })

  it('write and read failures name the file and strerror', () => {
    const ioErr = se({
      se_bind: rw(
        () => 'unbound\n',
        () => {
          throw new KernelError('EIO')
        },
      ),
    })
    check(runOn(ioErr, 'chzcrypt', '--se-bind', '03.0043'), '', err(`Failure writing to ${Q}/se_bind (errno 'Input/output error').`), 1)
    const writeOnly = se({se_bind: wo(() => undefined)})
    check(runOn(writeOnly, 'chzcrypt', '--se-bind', '03.0043'), '', err(`Failure reading from ${Q}/se_bind (errno 'Permission denied').`), 1)
  })

  it('se_associate missing: cannot write', () => {
    check(
      runOn(se({}), 'chzcrypt', '--se-associate', '5', '03.0043'),
      '',
      err(`Can't write to ${Q}/se_associate (errno 'No such file or directory').`),
      1,
    )
  })
})

describe('§13 Example B verbatim, on a tree built exactly like its input table', () => {
  const mask = (hex: string) => file(`0x${hex.padEnd(64, '0')}\n`)
  const vfio = (status: string) =>
    queue({online: undefined, request_count: file('-\n'), driver: link('../../../../bus/ap/drivers/vfio_ap'), status: file(status + '\n')})
  const tree = sysfs(
    {
      ap_domain: file('9\n'),
      ap_usage_domain_mask: mask('078'),
      ap_control_domain_mask: mask('ff8000000000000080'),
      features: file('APSC APXA QACT RC8A\n'),
    },
    {
      card02: withQueue(
        withQueue(
          withQueue(
            withQueue(card('0x92800000', '14', 'CEX8C', {request_count: file('10\n')}), '02.0005', queue({request_count: file('10\n')})),
            '02.0006',
            vfio('in use'),
          ),
          '02.0007',
          vfio('unassigned'),
        ),
        '02.0008',
        queue({online: undefined, request_count: file('-\n'), driver: undefined}),
      ),
      card04: withQueue(
        card('0x06800000', '13', 'CEX7P', {online: file('0\n'), config: file('0\n'), request_count: file('3\n')}),
        '04.0005',
        queue({online: file('0\n'), config: file('0\n'), request_count: file('3\n')}),
      ),
      card05: withQueue(
        card('0x6A800000', '12', 'CEX6A', {chkstop: file('1\n'), request_count: file('99\n'), requestq_count: file('2\n'), pendingq_count: file('3\n')}),
        '05.0005',
        queue({chkstop: file('1\n'), request_count: file('99\n'), requestq_count: file('2\n'), pendingq_count: file('3\n')}),
      ),
      card07: withQueue(
        card('0x92800000', '11', null, {driver: undefined}),
        '07.0005',
        queue({online: undefined, request_count: file('-\n'), driver: undefined}),
      ),
    },
  )
  it('lszcrypt -V', () => {
    check(
      runOn(tree, 'lszcrypt', '-V'),
      HEADER_V +
        `02       CEX8C CCA-Coproc  online           10        0     14     08 S--D--N-F- cex4card   
02.0005  CEX8C CCA-Coproc  online           10        0     14     08 S--D--N-F- cex4queue  
02.0006  CEX8C CCA-Coproc  in use            -        -     14     08 S--D--N-F- vfio_ap    
02.0007  CEX8C CCA-Coproc  unassigned        -        -     14     08 S--D--N-F- vfio_ap    
02.0008  CEX8C CCA-Coproc  -                 -        -     14     08 S--D--N-F- -no-driver-
04       CEX7P EP11-Coproc deconfig          -        -     13     08 -----XN-F- cex4card   
04.0005  CEX7P EP11-Coproc deconfig          -        -     13     08 -----XN-F- cex4queue  
05       CEX6A Accelerator chkstop          99        5     12     08 -MC-A-N-F- cex4card   
05.0005  CEX6A Accelerator chkstop          99        5     12     08 -MC-A-N-F- cex4queue  
07       -     CCA-Coproc  -                 0        0     11     08 S--D--N-F- -no-driver-
07.0005  -     CCA-Coproc  -                 -        -     11     08 S--D--N-F- -no-driver-
Warning: Default domain 0x09 is not available.
`,
    )
  })
})
