// Redaction is a safety net: the fast nested pass (src/logger.ts redactNested) must write exactly
// what pino's own redaction of every REDACT_PATHS entry writes, and never a secret.
import { pino, type LoggerOptions } from 'pino'
import t from 'tap'
import { REDACT_PATHS, loggerOptions, withNestedRedaction } from '../src/logger.js'

function capture (opts: LoggerOptions) {
  const lines: string[] = []
  const logger = pino({ ...opts, timestamp: false }, { write: (s: string) => { lines.push(s) } })
  return { logger: opts.redact === undefined || (opts.redact as { paths: string[] }).paths === REDACT_PATHS ? logger : withNestedRedaction(logger), lines }
}

const reference = (): LoggerOptions => {
  const { formatters: _f, ...rest } = loggerOptions('info')
  return { ...rest, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
}

class Thing { constructor (public token: string, public keep: string) {} }
const err = Object.assign(new Error('boom'), { body: 'raw body', token: 'tok', statusCode: 500 })

const CASES: Array<[string, Record<string, unknown>]> = [
  ['flat audit record', { event: 'token_issued', requestId: 'r1', clientId: 'c', room: 'abc', nbf: 1, exp: 2, tenant: null }],
  ['top-level secrets', { token: 'eyJ.x.y', jwt: 'j', joinUrl: 'https://x/?jwt=1', email: 'a@b', displayName: 'Ada', secret: 's', body: { a: 1 }, authorization: 'Bearer x' }],
  ['nested secrets one level down', { participant: { id: 'p1', displayName: 'Ada', email: 'a@b', token: 't' }, keep: { x: 1 } }],
  ['two levels down is not redacted', { a: { b: { token: 't' } } }],
  ['headers', { headers: { authorization: 'Bearer x', accept: '*/*' }, req: { headers: { authorization: 'Bearer y', cookie: 'c' } } }],
  ['class instance', { thing: new Thing('t', 'k') }],
  ['inherited secret key', { proto: Object.create({ token: 'inherited' }) as object }],
  ['undefined-valued secret key', { x: { token: undefined, keep: 1 } }],
  ['arrays', { list: [{ token: 't' }, 'a'], names: ['Ada'] }],
  ['error', { err }],
  ['date and numbers', { when: new Date(0), n: 1.5, inf: Infinity, b: true }]
]

t.test('same bytes as pino redacting every path itself', async (t) => {
  const ref = capture(reference())
  const fast = capture(loggerOptions('info'))
  for (const [name, obj] of CASES) {
    ref.logger.info(obj, name)
    fast.logger.info(obj, name)
    ref.logger.child({ bound: { token: 't', keep: 1 }, reqId: 'r' }).child({ nested: { email: 'e' } }).info(obj, name)
    fast.logger.child({ bound: { token: 't', keep: 1 }, reqId: 'r' }).child({ nested: { email: 'e' } }).info(obj, name)
  }
  t.equal(fast.lines.length, CASES.length * 2)
  for (let i = 0; i < fast.lines.length; i++) t.equal(fast.lines[i], ref.lines[i], CASES[Math.floor(i / 2)]?.[0])
})

t.test('no secret value survives, and the logged object is not mutated', async (t) => {
  const { logger, lines } = capture(loggerOptions('info'))
  const obj = { participant: { displayName: 'Ada Lovelace', email: 'ada@example.org', token: 'SECRET-TOKEN' }, joinUrl: 'https://m/x?jwt=SECRET-URL' }
  logger.info(obj, 'x')
  const out = lines.join('')
  for (const secret of ['Ada Lovelace', 'ada@example.org', 'SECRET-TOKEN', 'SECRET-URL']) t.notMatch(out, secret)
  t.equal(obj.participant.token, 'SECRET-TOKEN')
})
