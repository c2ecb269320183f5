// Golden tests: chzcrypt against lszcrypt.md §11 and the sessions of
// Example E (on Example B's state) and the SE guest messages (Example C's
// state), plus its help and version texts (§10).

import {describe, expect, it} from 'vitest'

import {newAdapter} from '../../src/core/lpar.js'
import {dir} from '../../src/sysfs/vfs.js'
import {cBytes} from '../../src/tools/libc.js'
import {chzcrypt, fixture, lszcrypt, tool} from '../helpers.js'
import {check, lpar, rt, runOn} from './util.js'

const A = () => fixture('example-a.yaml')
const B = () => fixture('example-b.yaml')
const C = () => fixture('example-c.yaml')
const D = () => fixture('example-d-empty.yaml')

const nonRoot = (w: Awaited<ReturnType<typeof B>>, ...argv: string[]) => tool(w, 'chzcrypt', argv, 1000)
const err = (msg: string) => `chzcrypt: ${msg}\n`
const usage = (msg: string) => `chzcrypt: ${msg}\nTry 'chzcrypt --help' for more information.\n`
const missing = (dev: string) => err(`Error - cryptographic device ${dev} does not exist.`)

const HEADER = `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
`
const HELP = `Usage: chzcrypt [OPTIONS] [DEVICE_IDS]

Modify zcrypt configuration.

 -e, --enable                  Set the given cryptographic device(s) online
 -d, --disable                 Set the given cryptographic device(s) offline
 -a, --all                     Set all available cryptographic device(s)
                               online/offline, must be used in conjunction with
                               the enable or disable option
     --config-on               Set the given cryptographic card device(s)
                               configured
     --config-off              Set the given cryptographic card device(s)
                               deconfigured
 -p, --poll-thread-enable      Enable zcrypt's poll thread
 -n, --poll-thread-disable     Disable zcrypt's poll thread
 -c, --config-time TIMEOUT     Set configuration timer for re-scanning the AP
                               bus to TIMEOUT seconds
 -t, --poll-timeout TIMEOUT    Set poll timer to run poll tasklet all TIMEOUT
                               nanoseconds after a request has been queued
 -q, --default-domain DOMAIN   Set new default domain to DOMAIN
 -V, --verbose                 Print verbose messages
     --se-associate assoc_idx  SE guest with AP support only: Associate the
                               given queue device
     --se-bind                 SE guest with AP support only: Bind the given
                               queue device
     --se-unbind               SE guest with AP support only: Unbind the given
                               queue device
 -h, --help                    Print this help, then exit
 -v, --version                 Print version information, then exit

DEVICE_IDS
  List of cryptographic device ids separated by blanks which will be set
  online/offline. Must be used in conjunction with the enable or disable option.
  DEVICE_ID could either be card device id ('<card-id>') or queue device id
  '<card-id>.<domain-id>').

QUEUE_DEVICE:
  An APQN queue device given as xy.abcd as it is listed by lszcrypt -V.

EXAMPLE:
  Disable the cryptographic device with card id '02' (inclusive all queues).
  #>chzcrypt -d 02
  
  Enable the cryptographic devices with card id '03' and domain id '0005'.
  #>chzcrypt -e 03.0005
  
`
const VERSION = 'chzcrypt version 2.43.0-build-20260625\nCopyright IBM Corp. 2008, 2023\n'

describe('Example E: chzcrypt sessions on Example B (§13)', () => {
  it('chzcrypt -d -V 02 05.0005 (card02 and its zcrypt queues go offline)', async () => {
    const w = await B()
    check(chzcrypt(w, '-d', '-V', '02', '05.0005'), `Setting cryptographic device card02 offline
Setting cryptographic device card05/05.0005 offline
`)
    check(lszcrypt(w, '2', '5'), HEADER +
      '02       CEX8C CCA-Coproc  offline          10\n' +
      '02.0005  CEX8C CCA-Coproc  offline          10\n' +
      '05       CEX6A Accelerator chkstop          99\n' +
      '05.0005  CEX6A Accelerator chkstop          99\n')
  })

  it('chzcrypt -e 02.0005 while card02 is offline: the kernel refuses', async () => {
    const w = await B()
    chzcrypt(w, '-d', '02')
    check(chzcrypt(w, '-e', '02.0005'), '', `chzcrypt: Error - unable to set cryptographic device card02/02.0005 online.
`, 1)
  })

  it('chzcrypt -e -V 0x2 card04 5 (card04 deconfigured): warning plus empty line, rc 0', async () => {
    const w = await B()
    chzcrypt(w, '-d', '-V', '02', '05.0005')
    check(
      chzcrypt(w, '-e', '-V', '0x2', 'card04', '5'),
      'Setting cryptographic device card02 online\nSetting cryptographic device card05 online\n',
      "chzcrypt: Warning - device card04 is deconfigured, can't set to online.\n\n",
    )
  })

  it('chzcrypt --config-off -V 2 4 (card04 already deconfigured), rc 0', async () => {
    const w = await B()
    check(
      chzcrypt(w, '--config-off', '-V', '2', '4'),
      'Setting cryptographic device card02 config off\n',
      'chzcrypt: Warning - device card04 is already config off.\n',
    )
    check(lszcrypt(w, '2'), HEADER + '02       CEX8C CCA-Coproc  deconfig          -\n02.0005  CEX8C CCA-Coproc  deconfig          -\n')
  })

  it('chzcrypt -e 9', async () => {
    check(chzcrypt(await B(), '-e', '9'), '', missing('card09'), 1)
  })

  it('chzcrypt -e foo', async () => {
    check(chzcrypt(await B(), '-e', 'foo'), '', err('Error - cryptographic device foo malformed.'), 1)
  })

  it('chzcrypt -e 02.00zz', async () => {
    check(chzcrypt(await B(), '-e', '02.00zz'), '', missing('card02/02.0000'), 1)
  })

  it('chzcrypt --config-off 02.0005: two stderr lines', async () => {
    check(chzcrypt(await B(), '--config-off', '02.0005'), '', `chzcrypt: Error - invalid device 02.0005
 Config on/off is only valid for card devices.
`, 1)
  })

  it('chzcrypt -e', async () => {
    check(chzcrypt(await B(), '-e'), '', err('Need to specify at least one device ID.'), 1)
  })

  it('chzcrypt (no arguments)', async () => {
    check(chzcrypt(await B()), '', `chzcrypt: Error - missing argument.
Try 'chzcrypt --help' for more information.
`, 1)
  })

  it('chzcrypt -q 0x10 -V: accepted, not a usage domain', async () => {
    const w = await B()
    check(chzcrypt(w, '-q', '0x10', '-V'), `Setting default domain to 16.
Warning: Default domain 0x10 is not available.
`)
    expect(rt(w).domain).toBe(16)
  })

  it('chzcrypt -q 200 (ap_max_domain_id 84)', async () => {
    check(chzcrypt(await B(), '-q', '200'), '', err("Error - invalid default domain '200'."), 1)
  })

  it('chzcrypt -q -1', async () => {
    check(chzcrypt(await B(), '-q', '-1'), '', err("Error - invalid default domain '-1'."), 1)
  })

  it('chzcrypt -c 60 -V', async () => {
    const w = await B()
    check(chzcrypt(w, '-c', '60', '-V'), 'Setting configuration timer to 60 seconds.\n')
    expect(rt(w).configTime).toBe(60)
  })

  it('chzcrypt -c abc', async () => {
    check(chzcrypt(await B(), '-c', 'abc'), '', err("Error - invalid configuration timeout 'abc'."), 1)
  })

  it('chzcrypt -t 100000 -V (sic: seconds)', async () => {
    const w = await B()
    check(chzcrypt(w, '-t', '100000', '-V'), 'Setting poll timeout to 100000 seconds.\n')
    expect(rt(w).pollTimeout).toBe(100000)
  })

  it('chzcrypt -t x', async () => {
    check(chzcrypt(await B(), '-t', 'x'), '', err("Error - invalid poll timeout 'x'."), 1)
  })

  it('chzcrypt -n -V', async () => {
    check(chzcrypt(await B(), '-n', '-V'), 'Disabling poll thread.\n')
  })

  it('chzcrypt -p -V with ap_interrupts=1: the kernel keeps poll_thread 0', async () => {
    const w = await B()
    check(chzcrypt(w, '-p', '-V'), 'Enabling poll thread.\n', err('Error - unable to change poll thread setting.'), 1)
    expect(rt(w).pollThread).toBe(false)
  })

  it('chzcrypt --se-bind 02.0005 (no APSB)', async () => {
    check(chzcrypt(await B(), '--se-bind', '02.0005'), '', err('Error - AP bus: SE bind support is not available.'), 1)
  })

  it('(non-root) chzcrypt -e 2: leading blank on the second line', async () => {
    check(nonRoot(await B(), '-e', '2'), '', `chzcrypt: Error - can't write to /sys/bus/ap/devices/card02/online.
 Wrong permissions or wrong tools version.
`, 1)
  })

  it('(non-root) chzcrypt --config-off 2: no leading blank', async () => {
    const w = await B()
    check(nonRoot(w, '--config-off', '2'), '', `chzcrypt: Error - can't write to /sys/bus/ap/devices/card02/config.
Wrong permissions or wrong tools version.
`, 1)
    expect(lpar(w).adapters[0].configured).toBe(true)
  })

  it('the whole session in order on one state', async () => {
    const w = await B()
    check(chzcrypt(w, '-d', '-V', '02', '05.0005'), `Setting cryptographic device card02 offline
Setting cryptographic device card05/05.0005 offline
`)
    check(chzcrypt(w, '-e', '02.0005'), '', `chzcrypt: Error - unable to set cryptographic device card02/02.0005 online.
`, 1)
    check(
      chzcrypt(w, '-e', '-V', '0x2', 'card04', '5'),
      'Setting cryptographic device card02 online\nSetting cryptographic device card05 online\n',
      "chzcrypt: Warning - device card04 is deconfigured, can't set to online.\n\n",
    )
    check(
      chzcrypt(w, '--config-off', '-V', '2', '4'),
      'Setting cryptographic device card02 config off\n',
      'chzcrypt: Warning - device card04 is already config off.\n',
    )
    check(chzcrypt(w, '-e', '9'), '', missing('card09'), 1)
    check(chzcrypt(w, '-e', 'foo'), '', err('Error - cryptographic device foo malformed.'), 1)
    check(chzcrypt(w, '-e', '02.00zz'), '', missing('card02/02.0000'), 1)
    check(chzcrypt(w, '--config-off', '02.0005'), '', `chzcrypt: Error - invalid device 02.0005
 Config on/off is only valid for card devices.
`, 1)
    check(chzcrypt(w, '-e'), '', err('Need to specify at least one device ID.'), 1)
    check(chzcrypt(w), '', `chzcrypt: Error - missing argument.
Try 'chzcrypt --help' for more information.
`, 1)
    check(chzcrypt(w, '-q', '0x10', '-V'), `Setting default domain to 16.
Warning: Default domain 0x10 is not available.
`)
    check(chzcrypt(w, '-q', '200'), '', err("Error - invalid default domain '200'."), 1)
    check(chzcrypt(w, '-q', '-1'), '', err("Error - invalid default domain '-1'."), 1)
    check(chzcrypt(w, '-c', '60', '-V'), 'Setting configuration timer to 60 seconds.\n')
    check(chzcrypt(w, '-c', 'abc'), '', err("Error - invalid configuration timeout 'abc'."), 1)
    check(chzcrypt(w, '-t', '100000', '-V'), 'Setting poll timeout to 100000 seconds.\n')
    check(chzcrypt(w, '-t', 'x'), '', err("Error - invalid poll timeout 'x'."), 1)
    check(chzcrypt(w, '-n', '-V'), 'Disabling poll thread.\n')
    check(chzcrypt(w, '-p', '-V'), 'Enabling poll thread.\n', err('Error - unable to change poll thread setting.'), 1)
    check(chzcrypt(w, '--se-bind', '02.0005'), '', err('Error - AP bus: SE bind support is not available.'), 1)
    check(lszcrypt(w, '-b'), `features: APSC APXA QACT RC8A
` + 'ap_domain=0x10 (unavailable)\n' + `ap_max_domain_id=0x54
ap_interrupts are enabled
` +
      'config_time=60 (seconds)\n' + `poll_thread is disabled
` + 'poll_timeout=100000 (nanoseconds)\n')
  })
})

describe('Example C: SE guest operations (§11.7, §13)', () => {
  it('--se-bind 03.0041: already bound', async () => {
    check(chzcrypt(await C(), '--se-bind', '03.0041'), '', err("Error - Queue device 03.0041 is NOT in 'unbound' state (state 'bound' found)."), 1)
  })

  it('--se-associate 5 03.0041: already associated', async () => {
    check(
      chzcrypt(await C(), '--se-associate', '5', '03.0041'),
      '',
      err("Error - Queue device 03.0041 is NOT in 'unassociated' state (state 'associated 5' found)."),
      1,
    )
  })

  it('--se-associate 0x10000 03.0042: index out of range', async () => {
    check(chzcrypt(await C(), '--se-associate', '0x10000', '03.0042'), '', err('Error - Association index needs to be in range [0...65535].'), 1)
    check(chzcrypt(await C(), '--se-associate', '-1', '03.0042'), '', err('Error - Association index needs to be in range [0...65535].'), 1)
  })

  it('--se-associate abc 03.0042: not a number', async () => {
    check(chzcrypt(await C(), '--se-associate', 'abc', '03.0042'), '', err("Error - Can't parse association index 'abc' as number."), 1)
  })

  it('--se-bind, --se-unbind, --se-associate without a queue', async () => {
    const w = await C()
    check(chzcrypt(w, '--se-bind'), '', err('Error - The --se-bind needs a queue device given.'), 1)
    check(chzcrypt(w, '--se-unbind'), '', err('Error - The --se-unbind needs a queue device given.'), 1)
    // 03.0042 is taken as the index.
    check(chzcrypt(w, '--se-associate', '03.0042'), '', err('Error - The --se-associate needs a queue device given.'), 1)
  })

  it('--se-bind 03.0050: no such queue (Q as typed)', async () => {
    const w = await C()
    check(chzcrypt(w, '--se-bind', '03.0050'), '', err('Error - Queue device 03.0050 does not exist.'), 1)
    check(chzcrypt(w, '--se-unbind', '3.50'), '', err('Error - Queue device 3.50 does not exist.'), 1)
  })

  it('a queue id that is not xy.abcd', async () => {
    const w = await C()
    check(chzcrypt(w, '--se-bind', 'foo'), '', err("Error - Can't parse queue device 'foo' as xy.abcd."), 1)
    check(chzcrypt(w, '--se-bind', '3'), '', err("Error - Can't parse queue device '3' as xy.abcd."), 1)
  })

  it('check order: missing queue first, then APSB, then the queue id (on Example B)', async () => {
    const w = await B()
    check(chzcrypt(w, '--se-bind'), '', err('Error - The --se-bind needs a queue device given.'), 1)
    check(chzcrypt(w, '--se-bind', 'foo'), '', err('Error - AP bus: SE bind support is not available.'), 1)
  })

  it('bind, associate and unbind with -V; lszcrypt follows', async () => {
    const w = await C()
    check(chzcrypt(w, '--se-bind', '03.0043', '-V'), 'Queue device 03.0043 successful bound.\n')
    check(chzcrypt(w, '--se-associate', '7', '03.0043', '-V'), 'Queue device 03.0043 successful associated with index 7.\n')
    check(chzcrypt(w, '--se_unbind', '03.0042', '-V'), 'Queue device 03.0042 successful unbound.\n')
    check(
      lszcrypt(w, '-c', '03.0043'),
      'queue 03.0043 capabilities:\nSE bind state: bound\nSE association state: associated 7\nMK WK CUR: invalid -\n',
    )
    const rows = lszcrypt(w, '-V').stdout.split('\n').slice(4, 6)
    expect(rows).toEqual([
      '03.0042  CEX8P EP11-Coproc online            0        0     14     08 -----XN-F- cex4queue   unbound    ',
      '03.0043  CEX8P EP11-Coproc online            0        0     14     08 -----XN-F- cex4queue   usable     ',
    ])
  })

  it('associate takes the index with %i (010 is 8)', async () => {
    check(chzcrypt(await C(), '--se-associate', '010', '03.0042', '-V'), 'Queue device 03.0042 successful associated with index 8.\n')
  })

  it('non-root: se_bind is not writable', async () => {
    check(
      nonRoot(await C(), '--se-bind', '03.0043'),
      '',
      err("Error - Can't write to /sys/bus/ap/devices/card03/03.0043/se_bind (errno 'Permission denied')."),
      1,
    )
  })

  it('the last action decides between SE and online (§11.2)', async () => {
    const w = await C()
    // -e was last: online runs, the queue stays in BS 2.
    check(chzcrypt(w, '--se-bind', '-e', '-V', '03.0043'), 'Setting cryptographic device card03/03.0043 online\n')
    expect(lszcrypt(w, '-V', '03.0043').stdout).toContain('unbound    \n')
    // --se-bind was last: it runs.
    check(chzcrypt(w, '-e', '--se-bind', '-V', '03.0043'), 'Queue device 03.0043 successful bound.\n')
    // Bus operations beat SE.
    check(chzcrypt(w, '--se-unbind', '-n', '-V', '03.0043'), 'Disabling poll thread.\n')
  })

  it('chzcrypt -p -V without AP interrupts works', async () => {
    const w = await C()
    check(chzcrypt(w, '-n', '-V'), 'Disabling poll thread.\n')
    check(chzcrypt(w, '-p', '-V'), 'Enabling poll thread.\n')
    expect(rt(w).pollThread).toBe(true)
  })
})

describe('§11.1 option parsing', () => {
  const invalid = (word: string) => usage(`Invalid option '${word}'`)
  const needsArg = (word: string) => usage(`Option '${word}' requires an argument`)

  it('invalid and ambiguous options', async () => {
    const w = await B()
    check(chzcrypt(w, '-x'), '', invalid('-x'), 1)
    check(chzcrypt(w, '--foo'), '', invalid('--foo'), 1)
    check(chzcrypt(w, '--config'), '', invalid('--config'), 1)
    check(chzcrypt(w, '--poll-t'), '', invalid('--poll-t'), 1)
    check(chzcrypt(w, '--se'), '', invalid('--se'), 1)
  })

  it('a long-only option given a value: optopt is its val (chzcrypt_cli.h), printed as one raw byte', async () => {
    const w = await B()
    const before = JSON.stringify(lpar(w))
    for (const [word, val] of [
      ['--config-on=1', 0x80],
      ['--config-off=02', 0x81],
      ['--se-bind=1', 0x83],
      ['--se-unbind=', 0x84],
      ['--se_bind=1', 0x83],
    ] as Array<[string, number]>) {
      const r = chzcrypt(w, word, '02')
      check(r, '', invalid('-' + String.fromCharCode(0xdc00 + val)), 1)
      expect(cBytes(r.stderr)).toEqual(Buffer.concat([Buffer.from("chzcrypt: Invalid option '-"), Buffer.of(val), Buffer.from("'\nTry 'chzcrypt --help' for more information.\n")]))
    }
    check(chzcrypt(w, '--enable=1', '02'), '', invalid('-e'), 1)
    expect(JSON.stringify(lpar(w))).toBe(before)
  })

  it('missing arguments', async () => {
    const w = await B()
    check(chzcrypt(w, '-c'), '', needsArg('-c'), 1)
    check(chzcrypt(w, '-t'), '', needsArg('-t'), 1)
    check(chzcrypt(w, '-q'), '', needsArg('-q'), 1)
    check(chzcrypt(w, '--config-time'), '', needsArg('--config-time'), 1)
    check(chzcrypt(w, '--se-associate'), '', needsArg('--se-associate'), 1)
  })

  it('_ becomes - from the 3rd character of every word', async () => {
    const w = await B()
    check(chzcrypt(w, '--config_off', '-V', '2'), 'Setting cryptographic device card02 config off\n')
    check(chzcrypt(w, '--config_on', '-V', '2'), 'Setting cryptographic device card02 config on\n')
    check(chzcrypt(w, '--poll_thread_disable', '-V'), 'Disabling poll thread.\n')
    check(chzcrypt(w, '--default_domain=8', '-V'), 'Setting default domain to 8.\n')
    check(chzcrypt(w, '--se_bind', '02.0005'), '', err('Error - AP bus: SE bind support is not available.'), 1)
    // The message shows the word after the replacement.
    check(chzcrypt(w, '--config_time'), '', needsArg('--config-time'), 1)
    // Operands are words too.
    check(chzcrypt(w, '-e', '02_0005'), '', err('Error - cryptographic device 02-0005 malformed.'), 1)
  })

  it('unique prefixes', async () => {
    const w = await B()
    check(chzcrypt(w, '--dis', '--verb', '2'), 'Setting cryptographic device card02 offline\n')
    check(chzcrypt(w, '--en', '--verb', '2'), 'Setting cryptographic device card02 online\n')
    check(chzcrypt(w, '--config-of', '--verb', '2'), 'Setting cryptographic device card02 config off\n')
    check(chzcrypt(w, '--poll-thread-d', '--verb'), 'Disabling poll thread.\n')
    check(chzcrypt(w, '--config-t=60', '--verb'), 'Setting configuration timer to 60 seconds.\n')
  })

  it('later options overwrite earlier ones: -e -d is offline', async () => {
    check(chzcrypt(await B(), '-e', '-d', '-V', '2'), 'Setting cryptographic device card02 offline\n')
  })

  it('no action option: bare, -a, -V 01', async () => {
    const w = await B()
    for (const argv of [[], ['-a'], ['-V', '01']]) check(chzcrypt(w, ...argv), '', usage('Error - missing argument.'), 1)
  })

  it('the missing-action check comes before the bus check', () => {
    check(runOn(dir({}), 'chzcrypt'), '', usage('Error - missing argument.'), 1)
    check(runOn(dir({}), 'chzcrypt', '-e', '1'), '', err('Crypto device driver not available.'), 1)
  })
})

describe('§11.2 dispatch priority', () => {
  it('chzcrypt -c 60 -n only disables the poll thread', async () => {
    const w = await B()
    check(chzcrypt(w, '-c', '60', '-n', '-V'), 'Disabling poll thread.\n')
    expect(rt(w).configTime).toBe(30)
  })

  it('config time > poll timeout > default domain > online > config', async () => {
    const w = await B()
    check(chzcrypt(w, '-q', '8', '-t', '5', '-c', '40', '-V'), 'Setting configuration timer to 40 seconds.\n')
    check(chzcrypt(w, '-q', '8', '-t', '5', '-V'), 'Setting poll timeout to 5 seconds.\n')
    check(chzcrypt(w, '-e', '-q', '8', '-V', '2'), 'Setting default domain to 8.\n')
    expect(rt(w)).toMatchObject({configTime: 40, pollTimeout: 5, domain: 8})
  })

  it('--config-off 0x2 -e sets card02 online, not config off', async () => {
    const w = await B()
    chzcrypt(w, '-d', '2')
    check(chzcrypt(w, '--config-off', '0x2', '-e', '-V'), 'Setting cryptographic device card02 online\n')
    expect(lpar(w).adapters[0].configured).toBe(true)
  })

  it('bus operations ignore operands', async () => {
    check(chzcrypt(await B(), '-n', '-V', 'zz', '99'), 'Disabling poll thread.\n')
  })
})

describe('§11.2 -a: all cards', () => {
  it('kernfs readdir order (card00..card0c)', async () => {
    const w = await A()
    for (let id = 0; id <= 0x0c; id++)
      if (!lpar(w).adapters.some((a) => a.id === id)) lpar(w).adapters.push(newAdapter(id, 8, 'cca'))
    lpar(w).adapters.sort((x, y) => x.id - y.id)
    const order = 'card06 card04 card0b card02 card00 card09 card07 card05 card0c card03 card0a card01 card08'.split(' ')
    const expected = order.map((c) => `Setting cryptographic device ${c} offline\n`).join('')
    check(chzcrypt(w, '-d', '-a', '-V'), expected)
    // Operands are ignored with -a.
    check(chzcrypt(w, '-d', '-a', '-V', '5', 'zz'), expected)
  })

  it('on Example B: card04 warns, card07 has no online attribute', async () => {
    const w = await B()
    check(
      chzcrypt(w, '-e', '-a', '-V'),
      'Setting cryptographic device card02 online\n',
      "chzcrypt: Warning - device card04 is deconfigured, can't set to online.\n\n" +
        "chzcrypt: Error - can't write to /sys/bus/ap/devices/card07/online.\n Wrong permissions or wrong tools version.\n",
      1,
    )
  })

  it('--config-on -a', async () => {
    check(
      chzcrypt(await B(), '--config-on', '-a', '-V'),
      'Setting cryptographic device card04 config on\n',
      'chzcrypt: Warning - device card02 is already config on.\n' +
        'chzcrypt: Warning - device card07 is already config on.\n' +
        'chzcrypt: Warning - device card05 is already config on.\n',
    )
  })

  it('-a without any card', async () => {
    const w = await D()
    check(chzcrypt(w, '-e', '-a'), '', err('Error - missing cryptographic device id(s).'), 1)
    check(chzcrypt(w, '--config-off', '-a'), '', err('Error - missing cryptographic device id(s).'), 1)
  })
})

describe('§11.3 device operands', () => {
  it('card forms: card4, card04, card2.5, 0x2, 0x01.0006, 2, 02', async () => {
    const w = await B()
    const off = (c: string) => `Setting cryptographic device ${c} offline\n`
    check(chzcrypt(w, '-d', '-V', 'card2', 'card02', 'card2.5', '0x2', '2', '02'), off('card02').repeat(6))
    check(chzcrypt(w, '-d', '-V', 'card5'), off('card05'))
    check(chzcrypt(w, '-d', '0x01.0006'), '', missing('card01'), 1)
  })

  it('only hex digits: the first two count (100 → card10, 123 → card12)', async () => {
    const w = await B()
    check(chzcrypt(w, '-d', '100'), '', missing('card10'), 1)
    check(chzcrypt(w, '-d', '123'), '', missing('card12'), 1)
    check(chzcrypt(w, '--config-on', '123'), '', missing('card12'), 1)
  })

  it('unparsable card forms', async () => {
    const w = await B()
    check(chzcrypt(w, '-e', 'cardzz'), '', err("Error - unable to parse 'cardzz'."), 1)
    check(chzcrypt(w, '-e', '0xzz'), '', err("Error - unable to parse '0xzz'."), 1)
    check(chzcrypt(w, '--config-on', 'cardzz'), '', err("Error - unable to parse 'cardzz'."), 1)
  })

  it('queue forms (online only): 1.6 and 01.0006; 001.0006 is malformed', async () => {
    const w = await A()
    check(chzcrypt(w, '-d', '-V', '1.6', '01.0006'), 'Setting cryptographic device card01/01.0006 offline\n'.repeat(2))
    check(chzcrypt(w, '-d', '001.0006'), '', err('Error - cryptographic device 001.0006 malformed.'), 1)
  })

  it('config on/off only for cards', async () => {
    check(chzcrypt(await A(), '--config-on', '1.6'), '', err('Error - invalid device 1.6\n Config on/off is only valid for card devices.'), 1)
  })

  it('a missing device stops the run; earlier devices were changed', async () => {
    const w = await B()
    check(chzcrypt(w, '-d', '-V', '2', '9', '5'), 'Setting cryptographic device card02 offline\n', missing('card09'), 1)
    expect(rt(w).offline).toContain('card02')
    expect(rt(w).offline).not.toContain('card05')
  })
})

describe('§11.4 / §11.5 online and config', () => {
  it('the deconfigured warning names the operand as typed', async () => {
    const w = await B()
    check(chzcrypt(w, '-e', '4'), '', "chzcrypt: Warning - device 4 is deconfigured, can't set to online.\n\n")
    check(chzcrypt(w, '-e', '04.0005'), '', "chzcrypt: Warning - device 04.0005 is deconfigured, can't set to online.\n\n")
  })

  it('without -V a successful run prints nothing', async () => {
    check(chzcrypt(await B(), '-d', '2', '05.0005'), '')
  })

  it('a card going online forces its zcrypt queues online (§11.8)', async () => {
    const w = await B()
    chzcrypt(w, '-d', '02.0005')
    check(lszcrypt(w, '02.0005'), HEADER + '02.0005  CEX8C CCA-Coproc  offline          10\n')
    check(chzcrypt(w, '-e', '2'), '')
    check(lszcrypt(w, '02.0005'), HEADER + '02.0005  CEX8C CCA-Coproc  online           10\n')
  })

  it('config on keeps the online flag: a reconfigured card reads online (§11.8)', async () => {
    const w = await B()
    check(chzcrypt(w, '--config-on', '-V', '4'), 'Setting cryptographic device card04 config on\n')
    check(lszcrypt(w, '4'), HEADER + '04       CEX7P EP11-Coproc online            3\n04.0005  CEX7P EP11-Coproc online            3\n')
    check(chzcrypt(w, '--config-on', '4'), '', 'chzcrypt: Warning - device card04 is already config on.\n')
  })

  // §11.8: card `online` <- 1 is refused only when the card's config is 0.
  it('a checkstopped card can be set online again (§11.8)', async () => {
    const w = await B()
    check(chzcrypt(w, '-d', '5'), '')
    check(chzcrypt(w, '-e', '-V', '5'), 'Setting cryptographic device card05 online\n')
  })

  // §11.8: queue `online` <- 1 is refused only when the queue or card is
  // deconfigured or the card is offline.
  it('a queue of a checkstopped card can be set online again (§11.8)', async () => {
    const w = await B()
    check(chzcrypt(w, '-d', '05.0005'), '')
    check(chzcrypt(w, '-e', '-V', '05.0005'), 'Setting cryptographic device card05/05.0005 online\n')
  })
})

describe('§11.6 bus settings', () => {
  it('-q: %li parsing (010 is 8), no warning for a usage domain', async () => {
    const w = await B()
    check(chzcrypt(w, '-q', '010', '-V'), 'Setting default domain to 8.\n')
    expect(rt(w).domain).toBe(8)
    expect(lszcrypt(w).stdout).not.toContain('Warning')
  })

  it('-q: a domain above ap_max_domain_id', async () => {
    check(chzcrypt(await B(), '-q', '85'), '', err("Error - invalid default domain '85'."), 1)
  })

  it('-q: the kernel rejects a domain not in aqmask', async () => {
    const w = await B()
    check(chzcrypt(w, '-q', '6', '-V'), 'Setting default domain to 6.\n', err('Error - unable to change default domain.'), 1)
    expect(rt(w).domain).toBe(9)
  })

  it('-q: a non-number is taken as 0 (as in the spec build)', async () => {
    check(chzcrypt(await B(), '-q', 'abc', '-V'), 'Setting default domain to 0.\nWarning: Default domain 0x00 is not available.\n')
  })

  it('-c: %ld takes the leading number; the kernel accepts 5..120', async () => {
    const w = await B()
    check(chzcrypt(w, '-c', '60abc', '-V'), 'Setting configuration timer to 60 seconds.\n')
    check(chzcrypt(w, '-c', '4'), '', err('Error - unable to change configuration timer setting.'), 1)
    check(chzcrypt(w, '-c', '121', '-V'), 'Setting configuration timer to 121 seconds.\n', err('Error - unable to change configuration timer setting.'), 1)
    expect(rt(w).configTime).toBe(60)
  })

  it('-t: the kernel accepts 0..120000000000', async () => {
    const w = await B()
    check(chzcrypt(w, '-t', '0'), '')
    check(chzcrypt(w, '-t', '120000000001'), '', err('Error - unable to change poll timeout setting.'), 1)
    expect(rt(w).pollTimeout).toBe(0)
  })

  describe('non-root: every write path fails with the can\'t-write error', () => {
    const perms = (attr: string) => err(`Error - can't write to /sys/bus/ap/${attr}.\n Wrong permissions or wrong tools version.`)

    it('-p / -n (-V message first)', async () => {
      const w = await B()
      check(nonRoot(w, '-p', '-V'), 'Enabling poll thread.\n', perms('poll_thread'), 1)
      check(nonRoot(w, '-n'), '', perms('poll_thread'), 1)
    })

    it('-c, -t, -q', async () => {
      const w = await B()
      check(nonRoot(w, '-c', '60'), '', perms('config_time'), 1)
      check(nonRoot(w, '-t', '5'), '', perms('poll_timeout'), 1)
      check(nonRoot(w, '-q', '8'), '', perms('ap_domain'), 1)
      expect(rt(w)).toMatchObject({configTime: 30, pollTimeout: 250000, domain: 9})
    })

    it('-V: -c and -t print their message before the write check, -q after it', async () => {
      const w = await B()
      check(nonRoot(w, '-c', '60', '-V'), 'Setting configuration timer to 60 seconds.\n', perms('config_time'), 1)
      check(nonRoot(w, '-t', '5', '-V'), 'Setting poll timeout to 5 seconds.\n', perms('poll_timeout'), 1)
      check(nonRoot(w, '-q', '8', '-V'), '', perms('ap_domain'), 1)
    })

    it('-d on a queue; --config-off on a card that is already off only warns', async () => {
      const w = await B()
      check(nonRoot(w, '-d', '02.0005'), '', perms('devices/card02/02.0005/online'), 1)
      check(nonRoot(w, '--config-off', '4'), '', 'chzcrypt: Warning - device card04 is already config off.\n')
      check(nonRoot(w, '-e', '9'), '', missing('card09'), 1)
    })
  })
})

describe('§10 chzcrypt help and version', () => {
  it('chzcrypt -h / --help', async () => {
    const w = await B()
    check(chzcrypt(w, '-h'), HELP)
    check(chzcrypt(w, '--help'), HELP)
    check(chzcrypt(w, '-e', '-h', '--foo'), HELP)
  })

  it('chzcrypt -v / --version', async () => {
    const w = await B()
    check(chzcrypt(w, '-v'), VERSION)
    check(chzcrypt(w, '--version', '-x'), VERSION)
  })

  it('an invalid option before -h fails', async () => {
    check(chzcrypt(await B(), '--foo', '-h'), '', usage("Invalid option '--foo'"), 1)
  })
})
