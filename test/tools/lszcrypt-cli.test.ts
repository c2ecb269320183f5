// Golden tests: lszcrypt's command line (lszcrypt.md §3), DEVICE_ID operand
// handling (§5) and its help and version texts (§10). Run on Example A's
// state (test/fixtures/example-a.yaml) unless noted.

import {describe, expect, it} from 'vitest'

import {hostVfs} from '../../src/sysfs/host.js'
import {dir} from '../../src/sysfs/vfs.js'
import {Stdio, cBytes} from '../../src/tools/libc.js'
import {runLszcrypt} from '../../src/tools/lszcrypt.js'
import {fixture, host, lszcrypt} from '../helpers.js'
import {check, runOn} from './util.js'

const A = () => fixture('example-a.yaml')
const B = () => fixture('example-b.yaml')

const HEADER = `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
`
const HEADER_V = `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     
--------------------------------------------------------------------------------------------
`
const ROWS_A = `00       CEX8C CCA-Coproc  online         1234
00.0006  CEX8C CCA-Coproc  online         1200
00.002a  CEX8C CCA-Coproc  online           34
01       CEX7A Accelerator online            5
01.0006  CEX7A Accelerator online            5
01.002a  CEX7A Accelerator offline           0
03       CEX8P EP11-Coproc offline          77
03.0006  CEX8P EP11-Coproc offline          77
03.002a  CEX8P EP11-Coproc offline           0
`
const BUS_A = `features: APSC APXA QACT RC8A
ap_domain=0x06
ap_max_domain_id=0x54
ap_interrupts are enabled
config_time=30 (seconds)
poll_thread is disabled
poll_timeout=250000 (nanoseconds)
`
const CAP_1 = `card01 provides capability for:
RSA 4K Clear Key
AP bus max message size limit 12 Kb
`
const HELP = `Usage: lszcrypt [OPTIONS] [DEVICE_IDS]

Display zcrypt device and configuration information.

 -b, --bus                   Show AP bus attributes then exit
 -c, --capability DEVICE_ID  Show the capabilities of a cryptographic device
 -d, --domains               Show the configured AP usage and control domains
 -V, --verbose               Print verbose messages
     --accelonly             Show only information from cards/queues in
                             Accelerator mode
     --ccaonly               Show only information from cards/queues in
                             CCA-Coprocessor mode
     --ep11only              Show only information from cards/queues in
                             EP11-Coprocessor mode
     --cardonly              Show only information from cards but no queue info
     --queueonly             Show only information from queues but no card info
 -s, --serial                Show the serial numbers for CCA and EP11 crypto
                             cards
 -h, --help                  Print this help, then exit
 -v, --version               Print version information, then exit

DEVICE_IDS
  List of cryptographic device ids separated by blanks which will be displayed.
  DEVICE_ID could either be card device id ('<card-id>') or queue device id
  '<card-id>.<domain-id>'). To filter all devices according to a dedicated
  domain just provide '.<domain-id>'.
  If no ids are given, all available devices are displayed.

EXAMPLE:
  List all cryptographic devices with card id '02'.
  #>lszcrypt 02

  List cryptographic devices with card id '02' and domain id '0005'.
  #>lszcrypt 02.0005

`
const VERSION = `lszcrypt version 2.43.0-build-20260625
Copyright IBM Corp. 2008, 2023
`

const invalid = (word: string) => `lszcrypt: Invalid option '${word}'\nTry 'lszcrypt --help' for more information.\n`
const needsArg = (word: string) => `lszcrypt: Option '${word}' requires an argument\nTry 'lszcrypt --help' for more information.\n`
const MODES = 'lszcrypt: Only one of --accelonly or --ccaonly or --ep11only can be specified\n'
const KINDS = 'lszcrypt: Only one of --cardonly or --queueonly can be specified\n'

describe('§3 parse errors', () => {
  it('invalid short option', async () => {
    check(lszcrypt(await A(), '-x'), '', invalid('-x'), 1)
  })

  it('invalid long option: the word as typed', async () => {
    check(lszcrypt(await A(), '--foo'), '', invalid('--foo'), 1)
  })

  it('ambiguous prefixes are invalid: --ver (verbose/version), --ca (capability/cardonly)', async () => {
    const w = await A()
    check(lszcrypt(w, '--ver'), '', invalid('--ver'), 1)
    check(lszcrypt(w, '--ca'), '', invalid('--ca'), 1)
  })

  it('missing argument: -c and --capability', async () => {
    const w = await A()
    check(lszcrypt(w, '-c'), '', needsArg('-c'), 1)
    check(lszcrypt(w, '--capability'), '', needsArg('--capability'), 1)
    check(lszcrypt(w, '-V', '-c'), '', needsArg('-c'), 1)
  })

  it('a long-only option given a value: optopt is its val (lszcrypt_cli.h), printed as one raw byte', async () => {
    // glibc's process_long_option sets optopt = pfound->val; util_opt_print_parse_error prints "-%c".
    const w = await A()
    const cases: Array<[string, number]> = [
      ['--accelonly=x', 0x81],
      ['--ccaonly=1', 0x82],
      ['--ep11only=1', 0x83],
      ['--cardonly=1', 0x84],
      ['--cardo=1', 0x84],
      ['--queueonly=', 0x85],
    ]
    for (const [word, val] of cases) {
      const r = lszcrypt(w, '-V', word, '-b')
      check(r, '', invalid('-' + String.fromCharCode(0xdc00 + val)), 1)
      expect(cBytes(r.stderr)).toEqual(
        Buffer.concat([Buffer.from("lszcrypt: Invalid option '-"), Buffer.of(val), Buffer.from("'\nTry 'lszcrypt --help' for more information.\n")]),
      )
    }
    // With a letter, optopt is the letter.
    check(lszcrypt(w, '--bus=1'), '', invalid('-b'), 1)
    check(lszcrypt(w, '--verbose=1'), '', invalid('-V'), 1)
  })

  it('a short option cluster is read byte by byte: -ä is the byte 0xc3', async () => {
    const r = lszcrypt(await A(), '-Vä')
    check(r, '', invalid('-\udcc3'), 1)
    expect(Buffer.from(cBytes(r.stderr)).subarray(0, 30)).toEqual(Buffer.from([...Buffer.from("lszcrypt: Invalid option '-"), 0xc3, 0x27, 0x0a]))
    // The rest of a cluster after an option that takes an argument is the argument, as text.
    check(lszcrypt(await A(), '-cä'), '', "lszcrypt: Error - 'ä' is an invalid cryptographic device id.\n", 1)
  })

  it('an invalid option before -b fails (-b is never reached)', async () => {
    check(lszcrypt(await A(), '--foo', '-b'), '', invalid('--foo'), 1)
    check(lszcrypt(await A(), '-x', '-h'), '', invalid('-x'), 1)
  })
})

describe('§3 option forms', () => {
  it('--capability=X, --capability X, --cap=X, -cX, -c X are the same', async () => {
    const w = await A()
    for (const argv of [['--capability=1'], ['--capability', '1'], ['--cap=1'], ['-c1'], ['-c', '1']]) check(lszcrypt(w, ...argv), CAP_1)
  })

  it('unique prefixes: --b, --dom, --verb, --queue, --cardo', async () => {
    const w = await A()
    check(lszcrypt(w, '--b'), BUS_A)
    check(lszcrypt(w, '--dom'), lszcrypt(w, '-d').stdout)
    check(lszcrypt(w, '--verb'), `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     
--------------------------------------------------------------------------------------------
00       CEX8C CCA-Coproc  online         1234        0     14     08 S--D--NHF- cex4card   
00.0006  CEX8C CCA-Coproc  online         1200        0     14     08 S--D--NHF- cex4queue  
00.002a  CEX8C CCA-Coproc  online           34        0     14     08 S--D--NHF- cex4queue  
01       CEX7A Accelerator online            5        0     13     08 -MC-A-N-F- cex4card   
01.0006  CEX7A Accelerator online            5        0     13     08 -MC-A-N-F- cex4queue  
01.002a  CEX7A Accelerator offline           0        0     13     08 -MC-A-N-F- cex4queue  
03       CEX8P EP11-Coproc offline          77        0     14     08 -----XN-F- cex4card   
03.0006  CEX8P EP11-Coproc offline          77        0     14     08 -----XN-F- cex4queue  
03.002a  CEX8P EP11-Coproc offline           0        0     14     08 -----XN-F- cex4queue  
`)
    check(lszcrypt(w, '--queue', '--cca'), `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
00.0006  CEX8C CCA-Coproc  online         1200
00.002a  CEX8C CCA-Coproc  online           34
`)
    check(lszcrypt(w, '--cardo', '--ep11'), HEADER + `03       CEX8P EP11-Coproc offline          77
`)
  })

  it('bundled short options run left to right: -db shows domains, -bd the bus', async () => {
    const w = await A()
    check(lszcrypt(w, '-db'), lszcrypt(w, '--domains').stdout)
    check(lszcrypt(w, '-bd'), BUS_A)
  })

  it('-V can be repeated', async () => {
    check(lszcrypt(await A(), '-VV', '-V'), `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     
--------------------------------------------------------------------------------------------
00       CEX8C CCA-Coproc  online         1234        0     14     08 S--D--NHF- cex4card   
00.0006  CEX8C CCA-Coproc  online         1200        0     14     08 S--D--NHF- cex4queue  
00.002a  CEX8C CCA-Coproc  online           34        0     14     08 S--D--NHF- cex4queue  
01       CEX7A Accelerator online            5        0     13     08 -MC-A-N-F- cex4card   
01.0006  CEX7A Accelerator online            5        0     13     08 -MC-A-N-F- cex4queue  
01.002a  CEX7A Accelerator offline           0        0     13     08 -MC-A-N-F- cex4queue  
03       CEX8P EP11-Coproc offline          77        0     14     08 -----XN-F- cex4card   
03.0006  CEX8P EP11-Coproc offline          77        0     14     08 -----XN-F- cex4queue  
03.002a  CEX8P EP11-Coproc offline           0        0     14     08 -----XN-F- cex4queue  
`)
  })

  it('options and operands may be mixed', async () => {
    check(lszcrypt(await A(), '1', '-V'), HEADER_V + `01       CEX7A Accelerator online            5        0     13     08 -MC-A-N-F- cex4card   
01.0006  CEX7A Accelerator online            5        0     13     08 -MC-A-N-F- cex4queue  
01.002a  CEX7A Accelerator offline           0        0     13     08 -MC-A-N-F- cex4queue  
`)
  })
})

describe('§3 exiting options ignore everything after them', () => {
  it('lszcrypt --ccaonly --ep11only -b: bus info, no filter conflict', async () => {
    check(lszcrypt(await A(), '--ccaonly', '--ep11only', '-b'), BUS_A)
  })

  it('lszcrypt -b --foo: bus info, rc 0', async () => {
    check(lszcrypt(await A(), '-b', '--foo'), BUS_A)
  })

  it('later junk, missing arguments and conflicts after -c, -d, -s, -h, -v', async () => {
    const w = await A()
    check(lszcrypt(w, '-c', '1', '--foo', '-c'), CAP_1)
    check(lszcrypt(w, '-d', '-x'), lszcrypt(w, '-d').stdout)
    check(lszcrypt(w, '-s', '--bogus', '--cardonly', '--queueonly'), lszcrypt(w, '-s').stdout)
    check(lszcrypt(w, '-h', '-c'), HELP)
    check(lszcrypt(w, '-v', '--ver'), VERSION)
  })

  it('-s, -b and -d ignore DEVICE_IDS and filters', async () => {
    const w = await B()
    // The -d table itself is asserted byte for byte in lszcrypt-examples.test.ts.
    check(lszcrypt(w, '5', '--accelonly', '-d', 'zz'), lszcrypt(w, '-d').stdout)
    check(lszcrypt(w, '.7', '-b'), lszcrypt(w, '-b').stdout)
    check(lszcrypt(w, '9', '-s'), lszcrypt(w, '-s').stdout)
  })
})

describe('§3 filter conflicts', () => {
  it('more than one mode filter', async () => {
    const w = await A()
    check(lszcrypt(w, '--accelonly', '--ccaonly'), '', MODES, 1)
    check(lszcrypt(w, '--ep11only', '--ccaonly', '--accelonly'), '', MODES, 1)
  })

  it('--cardonly and --queueonly', async () => {
    check(lszcrypt(await A(), '--cardonly', '--queueonly'), '', KINDS, 1)
  })

  it('the mode check is done first', async () => {
    check(lszcrypt(await A(), '--cardonly', '--queueonly', '--accelonly', '--ep11only'), '', MODES, 1)
  })

  it('conflicts are checked only after all options were parsed', async () => {
    check(lszcrypt(await A(), '--accelonly', '--ccaonly', '--foo'), '', invalid('--foo'), 1)
  })

  it('a mode filter and a card/queue filter may be combined', async () => {
    check(lszcrypt(await A(), '--accelonly', '--cardonly'), HEADER + `01       CEX7A Accelerator online            5
`)
  })
})

describe('§5 DEVICE_IDS operands (Example A)', () => {
  const missing = (what: string) => `lszcrypt: Error - cryptographic device ${what} does not exist.\n`

  it('lszcrypt 1 → header + rows 01, 01.0006, 01.002a', async () => {
    check(lszcrypt(await A(), '1'), HEADER + `01       CEX7A Accelerator online            5
01.0006  CEX7A Accelerator online            5
01.002a  CEX7A Accelerator offline           0
`)
  })

  it('lszcrypt 01.002a 0x3 → header, 01.002a, 03, 03.0006, 03.002a', async () => {
    check(lszcrypt(await A(), '01.002a', '0x3'), HEADER + `01.002a  CEX7A Accelerator offline           0
03       CEX8P EP11-Coproc offline          77
03.0006  CEX8P EP11-Coproc offline          77
03.002a  CEX8P EP11-Coproc offline           0
`)
  })

  it('lszcrypt .002a → header, 00.002a, 01.002a, 03.002a', async () => {
    check(lszcrypt(await A(), '.002a'), HEADER + `00.002a  CEX8C CCA-Coproc  online           34
` + `01.002a  CEX7A Accelerator offline           0
` + `03.002a  CEX8P EP11-Coproc offline           0
`)
  })

  it('lszcrypt .0007 → header; no queue devices with the domain, rc 1', async () => {
    check(lszcrypt(await A(), '.0007'), HEADER, 'lszcrypt: No queue devices with given domain value found.\n', 1)
  })

  it('lszcrypt 5 → header; card05 does not exist, rc 1', async () => {
    check(lszcrypt(await A(), '5'), HEADER, missing('card05'), 1)
  })

  it('lszcrypt zz → header + Invalid adpater id! (sic, stdout), rc 0', async () => {
    check(lszcrypt(await A(), 'zz'), HEADER + 'Invalid adpater id!\n')
  })

  it('lszcrypt --cardonly .6 → only the header', async () => {
    check(lszcrypt(await A(), '--cardonly', '.6'), HEADER)
  })

  it('queue forms: 1.6, 0x1.0x6, 01.0006 show only the queue row', async () => {
    const w = await A()
    for (const id of ['1.6', '0x1.0x6', '01.0006']) check(lszcrypt(w, id), HEADER + `01.0006  CEX7A Accelerator online            5
`)
  })

  it('card forms: 01, 0x1, 1., 1.zz show the card and its queues', async () => {
    const w = await A()
    for (const id of ['01', '0x1', '1.', '1.zz']) check(lszcrypt(w, id), HEADER + `01       CEX7A Accelerator online            5
01.0006  CEX7A Accelerator online            5
01.002a  CEX7A Accelerator offline           0
`)
  })

  it('domain filter after any first character: x6 and .6', async () => {
    const w = await A()
    const rows = HEADER + `00.0006  CEX8C CCA-Coproc  online         1200
` + `01.0006  CEX7A Accelerator online            5
` + `03.0006  CEX8P EP11-Coproc offline          77
`
    check(lszcrypt(w, 'x6'), rows)
    check(lszcrypt(w, '.6'), rows)
    check(lszcrypt(w, 'g12'), HEADER, 'lszcrypt: No queue devices with given domain value found.\n', 1)
  })

  it('missing queue: the full sysfs path', async () => {
    const w = await A()
    check(lszcrypt(w, '01.0007'), HEADER, missing('/sys/devices/ap/card01/01.0007'), 1)
    check(lszcrypt(w, '7.6'), HEADER, missing('/sys/devices/ap/card07/07.0006'), 1)
  })

  it('card number quirks: 100 → card100, card01 → cardca, -1 → cardffffffff', async () => {
    const w = await A()
    check(lszcrypt(w, '100'), HEADER, missing('card100'), 1)
    check(lszcrypt(w, 'card01'), HEADER, missing('cardca'), 1)
    check(lszcrypt(w, '--', '-1'), HEADER, missing('cardffffffff'), 1)
  })

  it('ids of 0x80000000 or more are negative ints: unless card and domain are both >= 0, the id is a card', async () => {
    // show_devices_argv: sscanf("%x.%x", &id, &dom) into ints; `if (id >= 0 && dom >= 0)` is a queue.
    const w = await A()
    const rows6 = '00.0006  CEX8C CCA-Coproc  online         1200\n01.0006  CEX7A Accelerator online            5\n03.0006  CEX8P EP11-Coproc offline          77\n'
    check(lszcrypt(w, '.0006', '--', '-c00.0006'), HEADER + rows6, missing('cardfffff400'), 1)
    check(lszcrypt(w, '--', '01.0006', '-c5.4', '01', '--card', '-sV'), HEADER + '01.0006  CEX7A Accelerator online            5\n', missing('cardffffff3b'), 1)
    check(lszcrypt(w, '80000000.6'), HEADER, missing('card80000000'), 1)
    check(lszcrypt(w, '7fffffff.6'), HEADER, missing('/sys/devices/ap/card7fffffff/7fffffff.0006'), 1)
    // A negative domain makes it the card.
    const card1 = '01       CEX7A Accelerator online            5\n01.0006  CEX7A Accelerator online            5\n01.002a  CEX7A Accelerator offline           0\n'
    check(lszcrypt(w, '01.ffffffff'), HEADER + card1)
    check(lszcrypt(w, '1.80000000'), HEADER + card1)
    check(lszcrypt(w, '1.-6'), HEADER + card1)
  })

  it("an empty id: sscanf(id + 1, \"%x\") reads past its NUL, the next word as typed or what follows the last", async () => {
    const w = await A()
    const rows6 = '00.0006  CEX8C CCA-Coproc  online         1200\n01.0006  CEX7A Accelerator online            5\n03.0006  CEX8P EP11-Coproc offline          77\n'
    check(lszcrypt(w, '', '05'), HEADER, 'lszcrypt: No queue devices with given domain value found.\n', 1)
    check(lszcrypt(w, '', '6'), HEADER + rows6, missing('card06'), 1)
    check(lszcrypt(w, '', '.6'), HEADER + 'Invalid adpater id!\n' + rows6)
    // The next word in memory is the one typed after it, an option included (getopt permutes pointers only).
    check(
      lszcrypt(w, '', '-V', '.6'),
      HEADER_V +
        'Invalid adpater id!\n' +
        '00.0006  CEX8C CCA-Coproc  online         1200        0     14     08 S--D--NHF- cex4queue  \n' +
        '01.0006  CEX7A Accelerator online            5        0     13     08 -MC-A-N-F- cex4queue  \n' +
        '03.0006  CEX8P EP11-Coproc offline          77        0     14     08 -----XN-F- cex4queue  \n',
    )
    check(lszcrypt(w, '', '--', '6'), HEADER + 'Invalid adpater id!\n', missing('card06'), 1)
    // After the last word: the first environment string (here none given: nothing hexadecimal).
    const card1 = '01       CEX7A Accelerator online            5\n01.0006  CEX7A Accelerator online            5\n01.002a  CEX7A Accelerator offline           0\n'
    check(lszcrypt(w, '1', ''), HEADER + card1 + 'Invalid adpater id!\n')
    const after = (env: string) => {
      const io = new Stdio(false)
      const code = runLszcrypt([''], hostVfs(host(w)), io, env)
      return {stdout: io.stdout, stderr: io.stderr, code}
    }
    check(after('PATH=/usr/bin'), HEADER + 'Invalid adpater id!\n')
    check(after('APLAB_STATE=/tmp/s.yaml'), HEADER, 'lszcrypt: No queue devices with given domain value found.\n', 1)
    check(after('6=x'), HEADER + rows6)
  })

  it('. alone is not an id', async () => {
    check(lszcrypt(await A(), '.'), HEADER + 'Invalid adpater id!\n')
  })

  it('operands in order, duplicates twice; an error stops with earlier rows on stdout', async () => {
    const w = await A()
    check(lszcrypt(w, '1.6', 'zz', '1.6'), HEADER + `01.0006  CEX7A Accelerator online            5
` + 'Invalid adpater id!\n' + `01.0006  CEX7A Accelerator online            5
`)
    check(lszcrypt(w, '1.6', '5', '0'), HEADER + `01.0006  CEX7A Accelerator online            5
`, missing('card05'), 1)
  })

  it('filters apply to given ids', async () => {
    const w = await A()
    check(lszcrypt(w, '--ccaonly', '1', '01.0006'), HEADER)
    check(lszcrypt(w, '--queueonly', '1'), HEADER + `01.0006  CEX7A Accelerator online            5
01.002a  CEX7A Accelerator offline           0
`)
  })

  it('without -V, queues of vfio_ap or no driver and driverless cards are skipped silently (Example B)', async () => {
    const w = await B()
    check(lszcrypt(w, '02.0006', '02.0008', '7', '07.0005'), HEADER)
    check(lszcrypt(w, '-V', '02.0008', '07.0005'), HEADER_V + `02.0008  CEX8C CCA-Coproc  -                 -        -     14     08 S--D--N-F- -no-driver-
` + `07.0005  -     CCA-Coproc  -                 -        -     11     08 S--D--N-F- -no-driver-
`)
    check(lszcrypt(w, '-V', '--cardonly', '7'), HEADER_V + `07       -     CCA-Coproc  -                 0        0     11     08 S--D--N-F- -no-driver-
`)
  })

  it('no default-domain warning when ids are given', async () => {
    const w = await A()
    w.hosts[0].runtime.domain = -1
    check(lszcrypt(w, '0x3'), HEADER + `03       CEX8P EP11-Coproc offline          77
03.0006  CEX8P EP11-Coproc offline          77
03.002a  CEX8P EP11-Coproc offline           0
`)
    check(lszcrypt(w), HEADER + ROWS_A + 'Warning: Default domain 0xffffffffffffffff is not available.\n')
  })
})

describe('§10 lszcrypt help and version', () => {
  it('lszcrypt -h / --help', async () => {
    const w = await A()
    check(lszcrypt(w, '-h'), HELP)
    check(lszcrypt(w, '--help'), HELP)
  })

  it('lszcrypt -v / --version', async () => {
    const w = await A()
    check(lszcrypt(w, '-v'), VERSION)
    check(lszcrypt(w, '--version'), VERSION)
  })

  it('help and version need no AP bus', () => {
    check(runOn(dir({}), 'lszcrypt', '-h'), HELP)
    check(runOn(dir({}), 'lszcrypt', '-v'), VERSION)
  })
})
