// Golden tests: lszcrypt against the worked examples of lszcrypt.md §13 (A to
// D) and the sample outputs of §6 (-b), §7 (-c), §8 (-d) and §9 (-s).
//
// Expected blocks are copied byte-exactly from the spec. In -V output every
// line is padded to the full table width: the trailing blanks in the
// template literals below are part of the expected output.

import {describe, expect, it} from 'vitest'

import {newAdapter} from '../../src/core/lpar.js'
import {dir, link, ro} from '../../src/sysfs/vfs.js'
import {fixture, lszcrypt, tool} from '../helpers.js'
import {check, lpar, rt, runOn, withoutRows} from './util.js'

const HEADER = `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
`
const HEADER_V = `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     
--------------------------------------------------------------------------------------------
`

describe('Example A: LPAR with CCA, accelerator and EP11 card (§13)', () => {
  const A = () => fixture('example-a.yaml')

  it('lszcrypt', async () => {
    check(lszcrypt(await A()), `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
00       CEX8C CCA-Coproc  online         1234
00.0006  CEX8C CCA-Coproc  online         1200
00.002a  CEX8C CCA-Coproc  online           34
01       CEX7A Accelerator online            5
01.0006  CEX7A Accelerator online            5
01.002a  CEX7A Accelerator offline           0
03       CEX8P EP11-Coproc offline          77
03.0006  CEX8P EP11-Coproc offline          77
03.002a  CEX8P EP11-Coproc offline           0
`)
  })

  it('lszcrypt -V', async () => {
    check(lszcrypt(await A(), '-V'), `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     
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

  it('lszcrypt --queueonly --ccaonly', async () => {
    check(lszcrypt(await A(), '--queueonly', '--ccaonly'), `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
00.0006  CEX8C CCA-Coproc  online         1200
00.002a  CEX8C CCA-Coproc  online           34
`)
  })

  it('lszcrypt 1: the card row and its queues', async () => {
    check(lszcrypt(await A(), '1'), HEADER + `01       CEX7A Accelerator online            5
01.0006  CEX7A Accelerator online            5
01.002a  CEX7A Accelerator offline           0
`)
  })

  it('lszcrypt 01.002a 0x3: a queue, then a card with its queues', async () => {
    check(lszcrypt(await A(), '01.002a', '0x3'), HEADER + `01.002a  CEX7A Accelerator offline           0
` + `03       CEX8P EP11-Coproc offline          77
03.0006  CEX8P EP11-Coproc offline          77
03.002a  CEX8P EP11-Coproc offline           0
`)
  })

  it('lszcrypt .002a: domain filter over all cards', async () => {
    check(lszcrypt(await A(), '.002a'), HEADER + `00.002a  CEX8C CCA-Coproc  online           34
` + `01.002a  CEX7A Accelerator offline           0
` + `03.002a  CEX8P EP11-Coproc offline           0
`)
  })

  it('lszcrypt .0007: no card has the domain', async () => {
    check(lszcrypt(await A(), '.0007'), HEADER, 'lszcrypt: No queue devices with given domain value found.\n', 1)
  })

  it('lszcrypt 5: missing card', async () => {
    check(lszcrypt(await A(), '5'), HEADER, 'lszcrypt: Error - cryptographic device card05 does not exist.\n', 1)
  })

  it('lszcrypt zz: not an id (message on stdout, rc 0)', async () => {
    check(lszcrypt(await A(), 'zz'), HEADER + 'Invalid adpater id!\n')
  })

  it('lszcrypt -b is the LPAR example of §6', async () => {
    check(lszcrypt(await A(), '-b'), `features: APSC APXA QACT RC8A
ap_domain=0x06
ap_max_domain_id=0x54
ap_interrupts are enabled
config_time=30 (seconds)
poll_thread is disabled
poll_timeout=250000 (nanoseconds)
`)
  })

  it('a non-root caller sees the same listing (§11.6)', async () => {
    const w = await A()
    check(tool(w, 'lszcrypt', ['-V'], 1000), lszcrypt(w, '-V').stdout)
  })
})

describe('Example B: KVM host with vfio_ap, unbound, deconfigured, checkstopped and driverless cards (§13)', () => {
  const B = () => fixture('example-b.yaml')

  // aplab's AP matrix gives every card a queue for every usage domain (5..8),
  // so cards 04, 05 and 07 also have queues 0006..0008, which the spec's
  // made-up table leaves out. They are vfio_ap (0006, 0007) or driverless
  // (0008) and therefore hidden in the default listing, but -V shows them.
  const MODEL_ONLY_ROWS = ['04.0006', '04.0007', '04.0008', '05.0006', '05.0007', '05.0008', '07.0006', '07.0007', '07.0008']

  it('lszcrypt (vfio, unbound and driverless devices hidden; default-domain warning)', async () => {
    check(lszcrypt(await B()), `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
02       CEX8C CCA-Coproc  online           10
02.0005  CEX8C CCA-Coproc  online           10
04       CEX7P EP11-Coproc deconfig          -
04.0005  CEX7P EP11-Coproc deconfig          -
05       CEX6A Accelerator chkstop          99
05.0005  CEX6A Accelerator chkstop          99
Warning: Default domain 0x09 is not available.
`)
  })

  // The spec block verbatim, from a sysfs tree built exactly like the spec's
  // input table, is in sysfs-edge.test.ts.
  it('lszcrypt -V: the spec rows, with 02.0006 unassigned (no mdevs yet)', async () => {
    const r = lszcrypt(await B(), '-V')
    const spec = `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     
--------------------------------------------------------------------------------------------
02       CEX8C CCA-Coproc  online           10        0     14     08 S--D--N-F- cex4card   
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
`.replace(
      '02.0006  CEX8C CCA-Coproc  in use    ',
      '02.0006  CEX8C CCA-Coproc  unassigned',
    )
    expect(withoutRows(r.stdout, MODEL_ONLY_ROWS)).toBe(spec)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })

  it('lszcrypt -V: the model-only rows follow the §4.3 rules', async () => {
    const r = lszcrypt(await B(), '-V')
    const rows = r.stdout.split(/(?<=\n)/).filter((l) => MODEL_ONLY_ROWS.some((p) => l.startsWith(p)))
    expect(rows.join('')).toBe(
      '04.0006  CEX7P EP11-Coproc deconfig          -        -     13     08 -----XN-F- vfio_ap    \n' +
        '04.0007  CEX7P EP11-Coproc deconfig          -        -     13     08 -----XN-F- vfio_ap    \n' +
        '04.0008  CEX7P EP11-Coproc deconfig          -        -     13     08 -----XN-F- -no-driver-\n' +
        '05.0006  CEX6A Accelerator chkstop           -        -     12     08 -MC-A-N-F- vfio_ap    \n' +
        '05.0007  CEX6A Accelerator chkstop           -        -     12     08 -MC-A-N-F- vfio_ap    \n' +
        '05.0008  CEX6A Accelerator chkstop           -        -     12     08 -MC-A-N-F- -no-driver-\n' +
        '07.0006  -     CCA-Coproc  unassigned        -        -     11     08 S--D--N-F- vfio_ap    \n' +
        '07.0007  -     CCA-Coproc  unassigned        -        -     11     08 S--D--N-F- vfio_ap    \n' +
        '07.0008  -     CCA-Coproc  -                 -        -     11     08 S--D--N-F- -no-driver-\n',
    )
  })

  it('lszcrypt -V --cardonly', async () => {
    check(lszcrypt(await B(), '-V', '--cardonly'), `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER     
--------------------------------------------------------------------------------------------
02       CEX8C CCA-Coproc  online           10        0     14     08 S--D--N-F- cex4card   
04       CEX7P EP11-Coproc deconfig          -        -     13     08 -----XN-F- cex4card   
05       CEX6A Accelerator chkstop          99        5     12     08 -MC-A-N-F- cex4card   
07       -     CCA-Coproc  -                 0        0     11     08 S--D--N-F- -no-driver-
Warning: Default domain 0x09 is not available.
`)
  })

  it('lszcrypt -b: ap_domain=0x09 (unavailable) as the 2nd line', async () => {
    check(
      lszcrypt(await B(), '-b'),
      `features: APSC APXA QACT RC8A
` + 'ap_domain=0x09 (unavailable)\n' + `ap_max_domain_id=0x54
ap_interrupts are enabled
config_time=30 (seconds)
poll_thread is disabled
poll_timeout=250000 (nanoseconds)
`,
    )
  })

  it('lszcrypt -d is the table of §8', async () => {
    check(lszcrypt(await B(), '-d'), `DOMAIN 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
------------------------------------------------------
    00  C  C  C  C  C  B  B  B  B  .  .  .  .  .  .  .
    10  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    20  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    30  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    40  C  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    50  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    60  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    70  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    80  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    90  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    a0  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    b0  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    c0  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    d0  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    e0  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
    f0  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .
------------------------------------------------------
C: Control domain
U: Usage domain
B: Both (Control + Usage domain)
Warning: Default domain 0x09 is not available.
`)
  })

  it('no default-domain warning when DEVICE_IDS are given (§4.5)', async () => {
    check(lszcrypt(await B(), '2'), HEADER + `02       CEX8C CCA-Coproc  online           10
02.0005  CEX8C CCA-Coproc  online           10
`)
  })
})

describe('Example C: Secure Execution guest (APSB) with one EP11 card (§13)', () => {
  const C = () => fixture('example-c.yaml')

  it('lszcrypt (no SESTAT without -V)', async () => {
    check(lszcrypt(await C()), `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
03       CEX8P EP11-Coproc online            2
03.0041  CEX8P EP11-Coproc online            2
03.0042  CEX8P EP11-Coproc online            0
03.0043  CEX8P EP11-Coproc online            0
03.0044  CEX8P EP11-Coproc online            0
`)
  })

  it('lszcrypt -V (SESTAT column from the queue BS bits)', async () => {
    check(lszcrypt(await C(), '-V'), `CARD.DOM TYPE  MODE        STATUS     REQUESTS  PENDING HWTYPE QDEPTH FUNCTIONS  DRIVER      SESTAT     
--------------------------------------------------------------------------------------------------------
03       CEX8P EP11-Coproc online            2        0     14     08 -----XN-F- cex4card    -          
03.0041  CEX8P EP11-Coproc online            2        0     14     08 -----XN-F- cex4queue   usable     
03.0042  CEX8P EP11-Coproc online            0        0     14     08 -----XN-F- cex4queue   bound      
03.0043  CEX8P EP11-Coproc online            0        0     14     08 -----XN-F- cex4queue   unbound    
03.0044  CEX8P EP11-Coproc online            0        0     14     08 -----XN-F- cex4queue   illicit    
`)
  })

  it("SESTAT 'invalid' when a queue's ap_functions is 0", async () => {
    const w = await C()
    lpar(w).queues['03.0043'].functions = 0
    const r = lszcrypt(w, '-V', '03.0043')
    expect(r.stdout.split('\n')[2]).toBe(
      '03.0043  CEX8P EP11-Coproc online            0        0     14     08 -----XN-F- cex4queue   invalid    ',
    )
  })

  it('lszcrypt -b', async () => {
    check(lszcrypt(await C(), '-b'), `features: APSC APXA QACT RC8A APSB
ap_domain=0x41
ap_max_domain_id=0xfe
ap_interrupts are disabled
config_time=30 (seconds)
poll_thread is enabled
poll_timeout=250000 (nanoseconds)
`)
  })

  it('lszcrypt -c 03.0041 (EP11 queue in an SE guest, §7.2)', async () => {
    check(lszcrypt(await C(), '-c', '03.0041'), `queue 03.0041 capabilities:
SE bind state: bound
SE association state: associated 5
MK WK CUR: valid 0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`)
  })
})

describe('Example D: empty / missing (§13)', () => {
  const D = () => fixture('example-d-empty.yaml')
  const NO_DOMAIN = 'Warning: Default domain 0xffffffffffffffff is not available.\n'

  it('lszcrypt: header, separator and the ap_domain -1 warning, rc 0', async () => {
    check(lszcrypt(await D()), `CARD.DOM TYPE  MODE        STATUS     REQUESTS
----------------------------------------------
Warning: Default domain 0xffffffffffffffff is not available.
`)
  })

  it('lszcrypt -V: the 92-column header instead', async () => {
    check(lszcrypt(await D(), '-V'), HEADER_V + NO_DOMAIN)
  })

  it('lszcrypt -s: no cards', async () => {
    check(lszcrypt(await D(), '-s'), '', 'lszcrypt: No crypto card devices found.\n', 1)
  })

  it('lszcrypt -b: ap_domain=-1 (not set)', async () => {
    check(
      lszcrypt(await D(), '-b'),
      `features: APSC APXA QACT RC8A
` + 'ap_domain=-1 (not set)\n' + `ap_max_domain_id=0x54
ap_interrupts are enabled
config_time=30 (seconds)
poll_thread is disabled
poll_timeout=250000 (nanoseconds)
`,
    )
  })

  it('lszcrypt 0: header, then the error', async () => {
    check(lszcrypt(await D(), '0'), HEADER, 'lszcrypt: Error - cryptographic device card00 does not exist.\n', 1)
  })

  it('lszcrypt .6: no card dirs for the domain filter (§5)', async () => {
    check(lszcrypt(await D(), '.6'), HEADER, 'lszcrypt: No crypto card devices found.\n', 1)
  })

  describe('no /sys/bus/ap: every mode fails, nothing on stdout', () => {
    const noBus = dir({devices: dir({})})
    for (const argv of [[], ['-V'], ['-b'], ['-c', '0'], ['-c', '01.0005'], ['-d'], ['-s'], ['01'], ['.6']])
      it(`lszcrypt ${argv.join(' ')}`, () => {
        check(runOn(noBus, 'lszcrypt', ...argv), '', 'lszcrypt: Crypto device driver not available.\n', 1)
      })
    for (const argv of [['-e', '1'], ['--config-on', '1'], ['-p'], ['-c', '30'], ['-t', '5'], ['-q', '1'], ['--se-bind', '01.0005']])
      it(`chzcrypt ${argv.join(' ')}`, () => {
        check(runOn(noBus, 'chzcrypt', ...argv), '', 'chzcrypt: Crypto device driver not available.\n', 1)
      })
  })

  describe('a card without queue dirs (card01 CEX5C alone)', () => {
    const sys = dir({
      bus: dir({ap: dir({ap_domain: ro(() => '1\n'), ap_usage_domain_mask: ro(() => '0x4' + '0'.repeat(63) + '\n')})}),
      devices: dir({
        ap: dir({
          card01: dir({
            type: ro(() => 'CEX5C\n'),
            online: ro(() => '1\n'),
            ap_functions: ro(() => '0x92800000\n'),
            config: ro(() => '1\n'),
            chkstop: ro(() => '0\n'),
            request_count: ro(() => '0\n'),
            driver: link('../../../bus/ap/drivers/cex4card'),
          }),
        }),
      }),
    })
    const ROW = '01       CEX5C CCA-Coproc  online            0\n'

    it('lszcrypt: header and the 01 row, then the error and an empty line on stderr', () => {
      check(runOn(sys, 'lszcrypt'), HEADER + ROW, 'lszcrypt: Error - no subdevices found for /sys/devices/ap/card01.\n\n', 1)
    })

    it('lszcrypt --cardonly works', () => {
      check(runOn(sys, 'lszcrypt', '--cardonly'), HEADER + ROW)
    })
  })
})

describe('§6 lszcrypt -b', () => {
  it('old kernel: no features/ap_interrupts/poll_timeout, usage mask not supported, ap_domain 3, max 15', () => {
    const sys = dir({
      bus: dir({
        ap: dir({
          ap_domain: ro(() => '3\n'),
          ap_max_domain_id: ro(() => '15\n'),
          ap_usage_domain_mask: ro(() => 'not supported\n'),
          config_time: ro(() => '30\n'),
          poll_thread: ro(() => '0\n'),
        }),
      }),
      devices: dir({ap: dir({})}),
    })
    check(runOn(sys, 'lszcrypt', '-b'), `ap_domain=0x03 (unavailable)
ap_max_domain_id=0x0f
config_time=30 (seconds)
poll_thread is disabled
`)
  })
})

describe('§7 lszcrypt -c', () => {
  const A = () => fixture('example-a.yaml')

  it('lszcrypt -c 0: CEX8C, ap_functions 0x93800000', async () => {
    check(lszcrypt(await A(), '-c', '0'), `card00 provides capability for:
RSA 4K Clear Key
CCA Secure Key (full function set)
Hardware support for stateless filtering
Long RNG
AP bus max message size limit 12 Kb
`)
  })

  it('lszcrypt -c 1: CEX7A, 0x6A800000', async () => {
    check(lszcrypt(await A(), '-c', '1'), `card01 provides capability for:
RSA 4K Clear Key
AP bus max message size limit 12 Kb
`)
  })

  it('lszcrypt -c 3: CEX8P, 0x06800000', async () => {
    check(lszcrypt(await A(), '-c', '3'), `card03 provides capability for:
EP11 Secure Key
AP bus max message size limit 12 Kb
`)
  })

  it('lszcrypt -c 0: CCA, 0x12400000 (z/VM restricted)', async () => {
    const w = await A()
    lpar(w).adapters[0].functions = 0x12400000
    check(lszcrypt(w, '-c', '0'), `card00 provides capability for:
RSA 4K Clear Key
CCA Secure Key (restricted function set)
Long RNG
AP bus max message size limit 12 Kb
`)
  })

  it('lszcrypt -c 7: card without zcrypt driver, hwtype 11 (Example B)', async () => {
    check(lszcrypt(await fixture('example-b.yaml'), '-c', '7'), `Detailed capability information for card07 (hardware type 11) is not available.
`)
  })

  it('lszcrypt -c 02.0005: CCA queue on the host (Example B)', async () => {
    check(lszcrypt(await fixture('example-b.yaml'), '-c', '02.0005'), `queue 02.0005 capabilities:
MK AES CUR: valid 0xd6a4ec2ed0d9a1c7
MK APKA CUR: valid 0x1122334455667788
MK ASYM CUR: - -
`)
  })

  it('a queue with none of se_bind, se_associate, mkvps prints only the first line', async () => {
    const B = await fixture('example-b.yaml')
    check(lszcrypt(B, '-c', '02.0006'), 'queue 02.0006 capabilities:\n')
    check(lszcrypt(B, '-c', '05.0005'), 'queue 05.0005 capabilities:\n')
  })

  it('queue ids: both numbers hex (3.42 is 03.0042, 1.2.3 is 01.0002)', async () => {
    const w = await A()
    check(lszcrypt(w, '-c', '3.6'), 'queue 03.0006 capabilities:\nMK WK CUR: invalid -\n')
    check(lszcrypt(w, '-c', '3.42'), '', 'lszcrypt: Error - cryptographic queue device 03.0042 does not exist.\n', 1)
    check(lszcrypt(w, '-c', '1.2.3'), '', 'lszcrypt: Error - cryptographic queue device 01.0002 does not exist.\n', 1)
  })

  it('card ids: strtol base auto-detect (10 decimal, 0x0a hex, 010 octal)', async () => {
    const w = await A()
    const missing = (c: string) => `lszcrypt: Error - cryptographic device ${c} does not exist.\n`
    check(lszcrypt(w, '-c', '10'), '', missing('card0a'), 1)
    check(lszcrypt(w, '-c', '0x0a'), '', missing('card0a'), 1)
    check(lszcrypt(w, '-c', '010'), '', missing('card08'), 1)
    check(lszcrypt(w, '-c', '0x03'), `card03 provides capability for:
EP11 Secure Key
AP bus max message size limit 12 Kb
`)
    check(lszcrypt(w, '-c', ' 3'), `card03 provides capability for:
EP11 Secure Key
AP bus max message size limit 12 Kb
`)
  })

  it('invalid card ids', async () => {
    const w = await A()
    for (const id of ['1x', 'abc', '256', '-1', ''])
      check(lszcrypt(w, '-c', id), '', `lszcrypt: Error - '${id}' is an invalid cryptographic device id.\n`, 1)
  })
})

describe('§9 lszcrypt -s', () => {
  it('CCA and EP11 cards with serials; accelerators never; an empty serialnr shows -', async () => {
    const w = await fixture('example-a.yaml')
    // The spec's block has a third card: CEX7P card04, deconfigured, empty serialnr.
    lpar(w).adapters.push(newAdapter(0x04, 7, 'ep11', {configured: false}))
    check(lszcrypt(w, '-s'), `CARD.DOM TYPE  MODE        STATUS     SERIALNR
----------------------------------------------
00       CEX8C CCA-Coproc  online     93AACHD1
03       CEX8P EP11-Coproc offline    93AAEP11
04       CEX7P EP11-Coproc deconfig   -       
`)
  })

  it('filters, ids and -V are ignored', async () => {
    const w = await fixture('example-a.yaml')
    const plain = lszcrypt(w, '-s').stdout
    check(lszcrypt(w, '--accelonly', '-V', '-s', '7', '.6'), plain)
  })

  it('CCA serial is empty while ap_domain is -1', async () => {
    const w = await fixture('example-a.yaml')
    rt(w).domain = -1
    check(lszcrypt(w, '-s'), `CARD.DOM TYPE  MODE        STATUS     SERIALNR
----------------------------------------------
` + '00       CEX8C CCA-Coproc  online     -       \n' + `03       CEX8P EP11-Coproc offline    93AAEP11
`)
  })
})
