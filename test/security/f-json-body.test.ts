// Attack catalogue section F — JSON body parsing (rows 61–70). Every body here is sent with a
// correct assertion over its exact bytes, so the answer comes from the body checks, not from auth.
import fc from 'fast-check'
import t from 'tap'
import { parseStrictJson, StrictJsonError } from '../../src/lib/strict-json.js'
import { VisitRequestSchema } from '../../src/schemas/visits.js'
import { assertion, visitBody } from '../helper.js'
import { assert400, buildSec, send } from './fixtures.js'

/** POSTs exact bytes to /v1/visits with a correct assertion over them (the assertion hashes the bytes). */
const post = async (app: Parameters<typeof send>[0], raw: string | Buffer) =>
  await send(app, `Bearer ${await assertion({ body: raw as string })}`, raw)

const rules = (res: { json: () => unknown }) => ((res.json() as { errors?: Array<{ rule: string }> }).errors ?? []).map((e) => e.rule)

t.test('F-61 invalid JSON, empty, BOM-prefixed and UTF-16 bodies → 400 with a generic message, no echo', async (t) => {
  const { app } = await buildSec(t)
  const valid = JSON.stringify(visitBody())
  const cases: Array<[string, string | Buffer]> = [
    ['invalid JSON', '{"appointmentId": "CANARY-ECHO-1",'],
    ['single quotes', "{'appointmentId':'CANARY-ECHO-2'}"],
    ['trailing comma', '{"appointmentId":"CANARY-ECHO-3",}'],
    ['empty body', ''],
    ['BOM-prefixed', '\uFEFF' + valid],
    ['UTF-16LE bytes', Buffer.from(valid, 'utf16le')],
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(valid, 'utf16le')])],
    ['overlong UTF-8', Buffer.concat([Buffer.from('{"appointmentId":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])],
    ['lone surrogate bytes', Buffer.concat([Buffer.from('{"appointmentId":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])]
  ]
  for (const [what, raw] of cases) {
    const res = await post(app, raw)
    assert400(t, res, what)
    t.notMatch(res.body, /CANARY-ECHO/u, `${what}: input not echoed`)
    t.notMatch(res.body, /Unexpected|position|JSON\.parse|SyntaxError/u, `${what}: no parser message`)
  }
})

t.test('F-62 __proto__ / constructor.prototype keys at any depth → 400', async (t) => {
  const { app } = await buildSec(t)
  const valid = JSON.stringify(visitBody())
  const cases = [
    valid.replace('{', '{"__proto__":{"admin":true},'),
    valid.replace('{', '{"constructor":{"prototype":{"admin":true}},'),
    valid.replace('"role":"provider"', '"__proto__":{"moderator":true},"role":"provider"'),
    valid.replace('"role":"provider"', '"constructor":{"prototype":{"moderator":true}},"role":"provider"'),
    valid.replace('{', '{"prototype":{"admin":true},'),
    valid.replace('{', '{"x":[{"y":{"__proto__":{"admin":true}}}],')
  ]
  for (const raw of cases) {
    const res = await post(app, raw)
    assert400(t, res, raw.slice(0, 60))
    t.ok(rules(res).includes('forbidden_key'), 'rule forbidden_key')
  }
  t.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype untouched')
  t.equal(({} as Record<string, unknown>).moderator, undefined, 'Object.prototype untouched')
})

t.test('F-63 deep nesting (100 k, 16 KiB of brackets, 1 MiB of {"a":) → 400/413, no crash, no long block', async (t) => {
  const { app } = await buildSec(t)
  const half = 8000 // 16 000 bytes: just under the 16 KiB limit
  const cases: Array<[string, string, number]> = [
    ['100 k open brackets', '['.repeat(100_000), 413],
    ['100 k balanced brackets', '['.repeat(100_000) + ']'.repeat(100_000), 413],
    ['8 000 balanced brackets (fits the limit)', '['.repeat(half) + ']'.repeat(half), 400],
    ['8 000 open brackets (fits the limit)', '['.repeat(half), 400],
    ['2 700 nested objects (fits the limit)', '{"a":'.repeat(2700) + '1' + '}'.repeat(2700), 400],
    ['1 MiB of {"a":', '{"a":'.repeat(209_716), 413]
  ]
  for (const [what, raw, status] of cases) {
    const res = await post(app, raw)
    t.equal(res.statusCode, status, what)
    t.not(res.statusCode, 500, `${what}: not 500`)
  }
  // The parser itself stays far below the 50 ms event-loop budget on the worst input that fits.
  for (const raw of ['['.repeat(half) + ']'.repeat(half), '{"a":'.repeat(2700) + '1' + '}'.repeat(2700), '"' + 'a'.repeat(16_000) + '"']) {
    const bytes = Buffer.from(raw)
    const started = process.hrtime.bigint()
    try { parseStrictJson(bytes) } catch { /* too_deep is the expected outcome */ }
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    t.ok(ms < 50, `strict parse of ${raw.slice(0, 8)}… took ${ms.toFixed(1)} ms (< 50)`)
  }
  t.throws(() => parseStrictJson(Buffer.from('['.repeat(half) + ']'.repeat(half))), new StrictJsonError('too_deep'), 'deep input is too_deep, not a RangeError')
})

t.test('F-64 duplicate keys anywhere → 400 duplicate_key (never last-wins)', async (t) => {
  const { app } = await buildSec(t)
  const valid = JSON.stringify(visitBody())
  const cases = [
    valid.replace('"role":"patient"', '"role":"patient","role":"provider"'),
    valid.replace('"role":"provider"', '"role":"patient","role":"provider"'),
    valid.replace('"tenant":"clinic-a"', '"tenant":"clinic-a","tenant":"clinic-b"'),
    valid.replace('{', '{"appointmentId":"x",')
  ]
  for (const raw of cases) {
    const res = await post(app, raw)
    assert400(t, res, 'duplicate key')
    t.ok(rules(res).includes('duplicate_key'), 'rule duplicate_key')
  }
})

t.test('F-65 unknown fields → 400 unknown_field; nothing is copied into the token wholesale', async (t) => {
  const { app } = await buildSec(t)
  const extras: Array<[string, Record<string, unknown>]> = [
    ['moderator', { moderator: true }],
    ['room', { room: '*' }],
    ['sub', { sub: '*' }],
    ['features', { features: { recording: true } }],
    ['context', { context: { user: { moderator: true } } }],
    ['exp', { exp: 4_102_444_800 }]
  ]
  for (const [what, extra] of extras) {
    const res = await post(app, JSON.stringify(visitBody(extra)))
    assert400(t, res, `top-level ${what}`)
    t.ok(rules(res).includes('unknown_field'), `${what}: unknown_field`)
  }
  const body = visitBody()
  ;(body.participants as Array<Record<string, unknown>>)[1] = { ...(body.participants as Array<Record<string, unknown>>)[1], moderator: true, affiliation: 'owner' }
  const res = await post(app, JSON.stringify(body))
  assert400(t, res, 'participant moderator:true')
  t.ok(rules(res).includes('unknown_field'), 'participant extra: unknown_field')
  const consent = await post(app, JSON.stringify(visitBody({ consent: { recording: 'c-1', livestreaming: true } })))
  assert400(t, consent, 'consent extra')
})

t.test('F-66 wrong types → 400', async (t) => {
  const { app } = await buildSec(t)
  const p0 = { role: 'provider', id: 'user-7', displayName: 'Dr. Ada Smith' }
  const cases: Array<Record<string, unknown>> = [
    { appointmentId: 123 },
    { appointmentId: ['pc_eid-1'] },
    { appointmentId: null },
    { tenant: ['clinic-a'] },
    { tenant: null },
    { start: 1_795_276_800 },
    { durationMinutes: '30' },
    { durationMinutes: [30] },
    { participants: p0 },
    { participants: 'provider' },
    { participants: [{ ...p0, displayName: ['Ada'] }] },
    { participants: [{ ...p0, displayName: null }] },
    { participants: [{ ...p0, role: ['provider'] }] },
    { participants: [{ ...p0, id: 7 }] },
    { consent: 'yes' },
    { consent: { recording: true } }
  ]
  for (const c of cases) assert400(t, await post(app, JSON.stringify(visitBody(c))), JSON.stringify(c).slice(0, 60))
})

t.test('F-67 big numbers, 1e400, -0, NaN-like strings → 400 (ids are strings)', async (t) => {
  const { app } = await buildSec(t)
  const valid = JSON.stringify(visitBody())
  const cases = [
    valid.replace('"pc_eid-12345"', '9007199254740993'),
    valid.replace('"pc_eid-12345"', '1e400'),
    valid.replace('"durationMinutes":30', '"durationMinutes":1e400'),
    valid.replace('"durationMinutes":30', '"durationMinutes":-0'),
    valid.replace('"durationMinutes":30', '"durationMinutes":30.5'),
    valid.replace('"durationMinutes":30', '"durationMinutes":9007199254740993'),
    valid.replace('"durationMinutes":30', '"durationMinutes":"NaN"'),
    valid.replace('"durationMinutes":30', '"durationMinutes":"Infinity"'),
    valid.replace('"durationMinutes":30', '"durationMinutes":-1e400'),
    valid.replace('"user-7"', '1e21')
  ]
  for (const raw of cases) assert400(t, await post(app, raw), raw.slice(0, 70))
})

t.test('F-68 top-level non-object → 400', async (t) => {
  const { app } = await buildSec(t)
  for (const raw of ['[]', '"x"', '42', 'null', 'true', '[{"appointmentId":"a"}]', '""']) assert400(t, await post(app, raw), raw)
})

t.test('F-69 very many keys: 10 000 is over the size limit (413), the most that fit → 400 quickly', async (t) => {
  const { app } = await buildSec(t)
  const keys = (n: number) => '{' + Array.from({ length: n }, (_, i) => `"k${i.toString(36)}":0`).join(',') + '}'
  t.equal((await post(app, keys(10_000))).statusCode, 413, '10 000 keys → 413')
  let n = 10_000
  while (Buffer.byteLength(keys(n)) > 16 * 1024) n -= 100
  const started = Date.now()
  const res = await post(app, keys(n))
  assert400(t, res, `${n} keys under the limit`)
  t.ok(Date.now() - started < 500, `answered in ${Date.now() - started} ms`)
})

t.test('F-70 property: arbitrary JSON bodies only get 200/400/401/403/413/415, never 5xx, never a token for invalid input', async (t) => {
  const { app } = await buildSec(t)
  const allowed = new Set([200, 400, 401, 403, 413, 415])
  let statuses = new Map<number, number>()
  const check = async (raw: string) => {
    const res = await post(app, raw)
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (!allowed.has(res.statusCode)) { t.comment(`unexpected ${res.statusCode} ${res.body.slice(0, 300)}`); return false }
    if (res.statusCode !== 200) return !res.body.includes('"token"') && !res.body.includes('jwt=')
    // a token only for a body the schema accepts
    return VisitRequestSchema.safeParse(JSON.parse(raw)).success
  }
  // 1) any JSON value at all
  await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (v) => await check(JSON.stringify(v) ?? 'null')), { numRuns: 300 })
  t.same([...statuses.keys()].filter((s) => !allowed.has(s)), [], `any JSON: statuses ${JSON.stringify([...statuses])}`)
  // 2) a valid visit with one field (top level or in a participant) replaced by any JSON value
  statuses = new Map()
  const fields = ['appointmentId', 'tenant', 'start', 'end', 'durationMinutes', 'participants', 'consent', 'role', 'id', 'displayName', 'email']
  await fc.assert(fc.asyncProperty(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 }), async (field, value) => {
    const body = visitBody()
    const participant = (body.participants as Array<Record<string, unknown>>)[0] as Record<string, unknown>
    if (['role', 'id', 'displayName', 'email'].includes(field)) participant[field] = value
    else body[field] = value
    return await check(JSON.stringify(body))
  }), { numRuns: 300 })
  t.same([...statuses.keys()].filter((s) => !allowed.has(s)), [], `mutated visit: statuses ${JSON.stringify([...statuses])}`)
  // 3) unauthenticated arbitrary bytes with arbitrary content types: never past 401/413/415
  await fc.assert(fc.asyncProperty(fc.string({ maxLength: 200 }), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16'), async (raw, ct) => {
    const res = await send(app, undefined, raw, { contentType: ct })
    return [400, 401, 413, 415].includes(res.statusCode)
  }), { numRuns: 200 })
})
