// json-c 0.16 as json_object_from_fd reads a whole input (json_tokener.c,
// default flags) and as json_object_get_string / json_object_to_json_string
// print values (json_object.c): what libap and ap-check see.

import {describe, expect, it} from 'vitest'

import {arrayLength, getString, jsoncParse, objectEntries, objectGetEx, toJsonString} from '../../src/tools/jsonc.js'
import {Crash} from '../../src/tools/libc.js'

/** The value as json-c prints it, or null for C's NULL. */
const read = (text: string): string | null => {
  const v = jsoncParse(text)
  return v === null ? null : toJsonString(v)
}

describe('json_tokener_parse_ex over the whole input', () => {
  it('the first complete value is the result; what follows it is not looked at', () => {
    expect(read('{"a": 1}')).toBe('{ "a": 1 }')
    expect(read('{"a": 1} {"b": 2}')).toBe('{ "a": 1 }')
    expect(read('[1, 2]]]] garbage')).toBe('[ 1, 2 ]')
    expect(read('  {}\n')).toBe('{ }')
  })

  it('a value that needs the next character to end fails at the end of the input', () => {
    for (const text of ['', ' \n ', '5', '-12', '1.5', 'true', 'null', 'NaN', 'Infinity', '{} /* open', '{}/', '{} // no newline'])
      expect(read(text)).toBeNull()
    expect(read('5\n')).toBe('5')
    expect(read('true ')).toBe('true')
    expect(read('{} // comment\n')).toBe('{ }')
    // json-c 0.16 reads "**/" as "*" then "*/" only after the first star: the comment does not end.
    expect(read('{} /* a **/ ')).toBeNull()
  })

  it('non-strict JSON: comments, single quotes, trailing commas, literals in any case', () => {
    expect(read("/* lead */ {'a': [1, 2,], // x\n 'b': TRUE, 'c': nUlL, 'd': NaN, 'e': -iNfInItY,}")).toBe(
      '{ "a": [ 1, 2 ], "b": true, "c": null, "d": NaN, "e": -Infinity }',
    )
    expect(read('{,}')).toBeNull()
    expect(read('[,]')).toBeNull()
    expect(read('[1 2]')).toBeNull()
    expect(read('{"a" 1}')).toBeNull()
    expect(read('{a: 1}')).toBeNull()
  })

  it('numbers: int64, uint64 (saturated), doubles keep their text, trailing e/E/+/- are trimmed', () => {
    expect(read('[01, -0, 18446744073709551615, 18446744073709551616, -9223372036854775809]')).toBe(
      '[ 1, 0, 18446744073709551615, 18446744073709551615, -9223372036854775808 ]',
    )
    expect(read('[1e2, 1., 123e, 5E+, -.5, 1.50]')).toBe('[ 1e2, 1., 123, 5, -.5, 1.50 ]')
    // Inside a container a number must be followed by , ] } / I i or a blank.
    expect(read('[1x]')).toBeNull()
    expect(read('[1/**/]')).toBe('[ 1 ]')
    // At the top level it ends where the number characters end.
    expect(read('12abc')).toBe('12')
    expect(read('-')).toBeNull()
    expect(read('- ')).toBeNull()
    expect(read('1.-5 ')).toBeNull()
  })

  it('strings: escapes, \\u with surrogates, control characters as they are', () => {
    const s = jsoncParse('["a\\u0041\\n\\/", "\\ud83d\\ude00", "\\ud800x", "\\udc00", "tab\there", "a\\u0000b"]')
    expect(s).not.toBeNull()
    const items = (s as {items: Parameters<typeof getString>[0][]}).items
    expect(items.map(getString)).toEqual(['aA\n/', '😀', '\ufffdx', '\ufffd', 'tab\there', 'a'])
    expect(toJsonString(s)).toBe('[ "aA\\n\\/", "😀", "\ufffdx", "\ufffd", "tab\\there", "a\\u0000b" ]')
    expect(read('"\\q"')).toBeNull()
    expect(read('"\\u12g4"')).toBeNull()
    expect(read("'it''s' ")).toBe('"it"')
  })

  it('objects: a repeated key keeps its place and takes the last value; keys end at a NUL', () => {
    expect(read('{"a": 1, "b": 2, "a": 3}')).toBe('{ "a": 3, "b": 2 }')
    expect(read('{"k\\u0000x": 1}')).toBe('{ "k": 1 }')
  })

  it('nesting: 32 levels, not 33', () => {
    expect(read('['.repeat(32) + ']'.repeat(32))).toBe('[ '.repeat(31) + '[ ]' + ' ]'.repeat(31))
    expect(read('['.repeat(33) + ']'.repeat(33))).toBeNull()
    expect(read('{"a":'.repeat(32) + '1' + '}'.repeat(32))).toBeNull()
    expect(read('{"a":'.repeat(31) + '1' + '}'.repeat(31))).not.toBeNull()
  })
})

describe('the object API', () => {
  it('json_object_object_get_ex: only an object has keys; a key may hold NULL', () => {
    expect(objectGetEx(jsoncParse('{"a": null}'), 'a')).toEqual({found: true, value: null})
    expect(objectGetEx(jsoncParse('{"a": null}'), 'b')).toEqual({found: false, value: null})
    expect(objectGetEx(jsoncParse('[1] '), 'a')).toEqual({found: false, value: null})
    expect(objectGetEx(null, 'a')).toEqual({found: false, value: null})
  })

  it('json_object_get_string: a string as it is, anything else as its spaced JSON, NULL for null', () => {
    const v = jsoncParse('{"s": "x/y", "n": 1.0e3, "b": false, "o": {"k": [1, "/"]}, "e": {}, "a": [], "z": null}')
    const get = (k: string) => getString(objectGetEx(v, k).value)
    expect(['s', 'n', 'b', 'o', 'e', 'a', 'z'].map(get)).toEqual(['x/y', '1.0e3', 'false', '{ "k": [ 1, "\\/" ] }', '{ }', '[ ]', null])
  })

  it('a wrong type ends the process as json-c does: the array assert (SIGABRT), a NULL table (SIGSEGV)', () => {
    const crash = (fn: () => unknown): Crash => {
      try {
        fn()
      } catch (e) {
        if (e instanceof Crash) return e
        throw e
      }
      throw new Error('no crash')
    }
    const a = crash(() => arrayLength(jsoncParse('{} ')))
    expect(a.signal).toBe('SIGABRT')
    expect(a.stderr({prog: 'chzdev', coreDumpsOff: true})).toBe(
      "chzdev: ./json_object.c:1473: json_object_array_length: Assertion `json_object_get_type(jso) == json_type_array' failed.\n",
    )
    expect(crash(() => arrayLength(null)).signal).toBe('SIGABRT')
    expect(arrayLength(jsoncParse('[1, 2] '))).toBe(2)
    const s = crash(() => objectEntries(jsoncParse('[] ')))
    expect([s.signal, s.stderr({prog: 'x', coreDumpsOff: true})]).toEqual(['SIGSEGV', ''])
    expect(objectEntries(jsoncParse('{"b": 1, "a": 2}')).map(([k]) => k)).toEqual(['b', 'a'])
  })
})
