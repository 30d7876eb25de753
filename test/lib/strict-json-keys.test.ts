// The hand-written key walk in src/lib/strict-json.ts must refuse exactly what the jsonc-parser
// visitor it replaced refused, with the same rule and JSON pointer, on any document.
import fc from 'fast-check'
import { visit } from 'jsonc-parser'
import t from 'tap'
import { MAX_JSON_DEPTH, StrictJsonError, parseStrictJson } from '../../src/lib/strict-json.js'

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])
const pointer = (path: ReadonlyArray<string | number>, key: string) =>
  '/' + [...path, key].map((p) => typeof p === 'number' || /^[A-Za-z0-9_.-]{1,64}$/u.test(p) ? String(p) : '<key>').join('/')

/** The previous implementation, kept as the reference. */
function referenceVerdict (text: string): string {
  const seen: Array<Set<string> | null> = []
  let problem: string | undefined
  visit(text, {
    onObjectBegin: () => { seen.push(new Set()) },
    onObjectEnd: () => { seen.pop() },
    onArrayBegin: () => { seen.push(null) },
    onArrayEnd: () => { seen.pop() },
    onObjectProperty: (key, _o, _l, _line, _c, pathSupplier) => {
      if (problem !== undefined) return
      const keys = seen[seen.length - 1]
      if (FORBIDDEN.has(key)) problem = `forbidden_key ${pointer(pathSupplier(), key)}`
      else if (keys?.has(key) === true) problem = `duplicate_key ${pointer(pathSupplier(), key)}`
      else keys?.add(key)
    }
  })
  return problem ?? 'ok'
}

function verdict (text: string): string {
  try {
    parseStrictJson(Buffer.from(text))
    return 'ok'
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err
    return `${err.rule} ${err.path}`
  }
}

// Objects are written from [key, value] pairs so that duplicates can occur.
const keyArb = fc.constantFrom('a', 'b', 'role', 'id', '__proto__', 'constructor', 'prototype', '\\u0061', '\\u0072ole', 'x\\"y', '[', '{,}', '<k>', 'é', 'a b', '')
const { value } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof({ maxDepth: 6, depthIdentifier: 'json' },
    fc.constantFrom('1', '-2.5e3', 'true', 'null', '"s"', '"[{,}]"', '"\\\\"', '"\\""'),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 5 }).map((pairs) => `{${pairs.map(([k, v]) => `"${k}" : ${v}`).join(' ,')}}`)
  )
}))

t.test('property: same verdict and pointer as the jsonc-parser walk', async (t) => {
  fc.assert(fc.property(value, (text) => {
    JSON.parse(text) // the generator only writes valid JSON
    const want = text.split('').filter((c) => c === '[' || c === '{').length > MAX_JSON_DEPTH ? undefined : referenceVerdict(text)
    return want === undefined || verdict(text) === want
  }), { numRuns: 5000 })
  t.pass('5000 random documents agree')
})

t.test('visit-shaped bodies: ok, and a duplicate deep inside is found', async (t) => {
  const body = JSON.stringify({ appointmentId: 'a', participants: [{ role: 'provider', id: 'u', displayName: 'Ada {[,]} "x"' }, { role: 'patient', id: 'p', displayName: 'B' }] })
  t.equal(verdict(body), 'ok')
  t.equal(verdict(body.replace('"id":"p"', '"id":"p","role":"provider"')), 'duplicate_key /participants/1/role')
  t.equal(referenceVerdict(body.replace('"id":"p"', '"id":"p","role":"provider"')), 'duplicate_key /participants/1/role')
})
