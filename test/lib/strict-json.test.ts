// Strict JSON body parsing: UTF-8 only, no duplicate or prototype keys, bounded depth.
import t from 'tap'
import { MAX_JSON_DEPTH, StrictJsonError, parseStrictJson } from '../../src/lib/strict-json.js'

const bytes = (s: string) => new TextEncoder().encode(s)

/** The rule and path a body is refused with, or 'ok' when it parses. */
function verdict (input: Uint8Array | string): { rule: string, path: string } | 'ok' {
  try {
    parseStrictJson(typeof input === 'string' ? bytes(input) : input)
    return 'ok'
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err
    return { rule: err.rule, path: err.path }
  }
}

const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth)
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

t.test('valid documents parse to the same value as JSON.parse', async (t) => {
  const doc = '{"appointmentId":"pc_eid-1","participants":[{"role":"provider","id":"u1"},{"role":"patient","id":"u2"}],"n":[[1,[2,[3]]],[]],"x":null}'
  t.same(parseStrictJson(bytes(doc)), JSON.parse(doc))
  t.same(parseStrictJson(bytes('{"name":"Nguyễn Thị Minh Khai","zh":"李小龍","ar":"محمد"}')), { name: 'Nguyễn Thị Minh Khai', zh: '李小龍', ar: 'محمد' })
  t.same(parseStrictJson(bytes('[]')), [])
  t.same(parseStrictJson(bytes('{}')), {})
})

t.test('top-level scalars pass through (the route rejects non-objects, not the parser)', async (t) => {
  t.equal(parseStrictJson(bytes('1')), 1)
  t.equal(parseStrictJson(bytes('"__proto__"')), '__proto__')
  t.equal(parseStrictJson(bytes('null')), null)
  t.equal(parseStrictJson(bytes('true')), true)
  t.equal(parseStrictJson(bytes(' -2.5e3 ')), -2500)
})

t.test('the same key in sibling objects or at different depths is fine', async (t) => {
  t.equal(verdict('[{"a":1},{"a":2}]'), 'ok')
  t.equal(verdict('{"a":{"a":{"a":1}}}'), 'ok')
  t.equal(verdict('{"a":{"b":1},"c":{"b":2}}'), 'ok')
  t.equal(verdict('{"role":"a","Role":"b"}'), 'ok', 'keys are case-sensitive')
})

t.test('duplicate keys are refused at any depth, with a JSON pointer to the second one', async (t) => {
  t.same(verdict('{"role":"patient","role":"provider"}'), { rule: 'duplicate_key', path: '/role' })
  t.same(verdict('{"a":{"b":1,"b":2}}'), { rule: 'duplicate_key', path: '/a/b' })
  t.same(verdict('{"participants":[{"role":"patient"},{"role":"patient","role":"provider"}]}'), { rule: 'duplicate_key', path: '/participants/1/role' })
  t.same(verdict('[[{"x":{"y":[{"k":1,"k":1}]}}]]'), { rule: 'duplicate_key', path: '/0/0/x/y/0/k' })
  t.same(verdict('{"a":1,"b":2,"a":1}'), { rule: 'duplicate_key', path: '/a' }, 'identical values are still duplicates')
})

t.test('a duplicate spelled with a JSON escape is still a duplicate', async (t) => {
  // "\u0072ole" is "role" after unescaping: JSON.parse would keep the last one.
  t.same(verdict('{"role":"patient","\\u0072ole":"provider"}'), { rule: 'duplicate_key', path: '/role' })
})

t.test('prototype keys are refused wherever they appear', async (t) => {
  t.same(verdict('{"__proto__":{"moderator":true}}'), { rule: 'forbidden_key', path: '/__proto__' })
  t.same(verdict('{"a":{"constructor":{}}}'), { rule: 'forbidden_key', path: '/a/constructor' })
  t.same(verdict('{"participants":[{"prototype":1}]}'), { rule: 'forbidden_key', path: '/participants/0/prototype' })
  t.same(verdict('{"\\u005f_proto__":{}}'), { rule: 'forbidden_key', path: '/__proto__' }, 'escaped spelling')
  t.equal(verdict('{"proto":1,"Constructor":2,"__proto":3}'), 'ok', 'only the exact names')
  t.equal(verdict('["__proto__","constructor"]'), 'ok', 'as values they are harmless')
})

t.test('a key that is unsafe to echo is masked in the path', async (t) => {
  const v = verdict('{"<script>":{"k":1,"k":2}}')
  t.same(v, { rule: 'duplicate_key', path: '/<key>/k' })
  const long = 'x'.repeat(65)
  t.same(verdict(`{"${long}":1,"${long}":2}`), { rule: 'duplicate_key', path: '/<key>' })
})

t.test('depth is bounded at MAX_JSON_DEPTH for arrays and objects', async (t) => {
  t.equal(MAX_JSON_DEPTH, 32)
  t.equal(verdict(nested(32, '[', ']')), 'ok', '32 nested arrays')
  t.same(verdict(nested(33, '[', ']')), { rule: 'too_deep', path: '' }, '33 nested arrays')
  t.equal(verdict(nestedObjects(32)), 'ok', '32 nested objects')
  t.same(verdict(nestedObjects(33)), { rule: 'too_deep', path: '' }, '33 nested objects')
  t.same(verdict('{"a":' + nested(32, '[', ']') + '}'), { rule: 'too_deep', path: '' }, 'mixed: object + 32 arrays')
  t.same(verdict(nested(5000, '[', ']')), { rule: 'too_deep', path: '' }, 'very deep input does not blow the stack')
})

t.test('bytes that are not UTF-8 are refused before parsing', async (t) => {
  // C0 AF is an overlong encoding of "/": a classic filter bypass.
  t.same(verdict(Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d])), { rule: 'not_utf8', path: '' })
  t.same(verdict(Uint8Array.from([0x22, 0xff, 0x22])), { rule: 'not_utf8', path: '' })
  t.same(verdict(Uint8Array.from([0x22, 0xed, 0xa0, 0x80, 0x22])), { rule: 'not_utf8', path: '' }, 'UTF-8 encoded surrogate')
  t.same(verdict(Uint8Array.from([0x22, 0xe2, 0x82, 0x22])), { rule: 'not_utf8', path: '' }, 'truncated sequence')
})

t.test('UTF-16 is refused', async (t) => {
  const le = Buffer.from('\uFEFF{"a":1}', 'utf16le')
  t.same(verdict(le), { rule: 'not_utf8', path: '' }, 'UTF-16LE with BOM (FF FE)')
  const be = Buffer.from(le).swap16()
  t.same(verdict(be), { rule: 'not_utf8', path: '' }, 'UTF-16BE with BOM (FE FF)')
  t.same(verdict(Buffer.from('{"a":1}', 'utf16le')), { rule: 'syntax', path: '' }, 'UTF-16LE without BOM is NUL-riddled JSON')
})

t.test('a UTF-8 byte order mark is refused', async (t) => {
  t.same(verdict(Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes('{"a":1}')])), { rule: 'syntax', path: '' })
})

t.test('syntax errors, comments and trailing commas are refused', async (t) => {
  for (const s of ['', '{', '{"a":1,}', '{"a":1} // c', '/* c */ {"a":1}', "{'a':1}", '{"a":1}{"b":2}', 'NaN']) {
    t.same(verdict(s), { rule: 'syntax', path: '' }, JSON.stringify(s))
  }
})

t.test('the error carries the rule as its message, never content', async (t) => {
  try {
    parseStrictJson(bytes('{"secret-value-123":1,"secret-value-123":2}'))
    t.fail('should throw')
  } catch (err) {
    t.type(err, StrictJsonError)
    t.equal((err as Error).message, 'duplicate_key')
    t.notMatch((err as Error).message, /secret-value/)
  }
})
