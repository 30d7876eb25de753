// Visit times and token windows (contract §3, §4, §6) at a frozen instant.
import t from 'tap'
import { DEFAULT_POLICY, ROLES } from '../../src/config/policy.js'
import { ApiError } from '../../src/errors.js'
import { adHocTokenWindow, resolveVisitTimes, toIso, toSeconds, visitTokenWindow, type ScheduleInput, type TimeLimits } from '../../src/services/time-window.js'
import { NOW_S, iso } from '../helper.js'

/** Contract §8 defaults. */
const LIMITS: TimeLimits = { nbfSkewSeconds: 30, lateGraceMinutes: 30, maxVisitMinutes: 720, maxAdvanceDays: 90, defaultTokenTtlSeconds: 3600 }
const MIN = 60
const DAY = 86400

function rejection (input: ScheduleInput & { start: string }, limits = LIMITS, now = NOW_S) {
  try {
    resolveVisitTimes(input, limits, now)
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    return { code: err.code, status: err.statusCode, errors: err.errors }
  }
  return 'accepted'
}

t.test('the frozen clock is 2026-11-21T15:00:00Z', async (t) => {
  t.equal(iso(NOW_S), '2026-11-21T15:00:00Z')
  t.equal(toIso(NOW_S), '2026-11-21T15:00:00Z')
  t.equal(toSeconds('2026-11-21T15:00:00Z'), NOW_S)
})

t.test('start/end: end or durationMinutes give the same times; offsets are honoured', async (t) => {
  t.strictSame(resolveVisitTimes({ start: iso(NOW_S + 3600), end: iso(NOW_S + 5400) }, LIMITS, NOW_S), { start: NOW_S + 3600, end: NOW_S + 5400 })
  t.strictSame(resolveVisitTimes({ start: iso(NOW_S + 3600), durationMinutes: 30 }, LIMITS, NOW_S), { start: NOW_S + 3600, end: NOW_S + 5400 })
  t.strictSame(resolveVisitTimes({ start: '2026-11-21T17:00:00+01:00', end: '2026-11-21T12:30:00-04:00' }, LIMITS, NOW_S), { start: NOW_S + 3600, end: NOW_S + 5400 })
  const frac = resolveVisitTimes({ start: '2026-11-21T16:00:00.999Z', end: '2026-11-21T16:30:00.5Z' }, LIMITS, NOW_S)
  t.strictSame(frac, { start: NOW_S + 3600, end: NOW_S + 5400 }, 'fractional seconds are truncated to whole seconds')
})

t.test('nbf = max(now, start − early join) − skew; exp = end + grace, for each role', async (t) => {
  const times = { start: NOW_S + 3600, end: NOW_S + 5400 }
  const early: Record<string, number> = { provider: 15, patient: 10, caregiver: 10, interpreter: 15, observer: 10 }
  for (const role of ROLES) {
    t.strictSame(visitTokenWindow(times, DEFAULT_POLICY[role], LIMITS, NOW_S), {
      iat: NOW_S,
      nbf: NOW_S + 3600 - early[role] * MIN - 30,
      exp: NOW_S + 5400 + 30 * MIN
    }, role)
  }
  // contract §3 example: provider at 15:00Z visit → notBefore 14:44:30Z, expiresAt 16:00Z (visit 15:00–15:30)
  const w = visitTokenWindow({ start: NOW_S, end: NOW_S + 1800 }, DEFAULT_POLICY.provider, LIMITS, NOW_S - 2 * 3600)
  t.equal(toIso(w.nbf), '2026-11-21T14:44:30Z')
  t.equal(toIso(w.exp), '2026-11-21T16:00:00Z')
})

t.test('inside the early-join period, or after start, nbf is now − skew', async (t) => {
  const soon = { start: NOW_S + 5 * MIN, end: NOW_S + 35 * MIN }
  for (const role of ROLES) t.equal(visitTokenWindow(soon, DEFAULT_POLICY[role], LIMITS, NOW_S).nbf, NOW_S - 30, `${role}, start in 5 min`)
  const running = { start: NOW_S - 20 * MIN, end: NOW_S + 10 * MIN }
  t.strictSame(visitTokenWindow(running, DEFAULT_POLICY.patient, LIMITS, NOW_S), { iat: NOW_S, nbf: NOW_S - 30, exp: NOW_S + 40 * MIN })
  // exactly at start − early: both sides of max() are equal
  const edge = { start: NOW_S + 10 * MIN, end: NOW_S + 40 * MIN }
  t.equal(visitTokenWindow(edge, DEFAULT_POLICY.patient, LIMITS, NOW_S).nbf, NOW_S - 30)
  t.equal(visitTokenWindow(edge, DEFAULT_POLICY.provider, LIMITS, NOW_S).nbf, NOW_S - 30)
  t.equal(visitTokenWindow({ start: NOW_S + 10 * MIN + 1, end: NOW_S + 40 * MIN }, DEFAULT_POLICY.patient, LIMITS, NOW_S).nbf, NOW_S + 1 - 30)
})

t.test('skew and grace come from the limits', async (t) => {
  const limits = { ...LIMITS, nbfSkewSeconds: 0, lateGraceMinutes: 0 }
  t.strictSame(visitTokenWindow({ start: NOW_S + 3600, end: NOW_S + 5400 }, DEFAULT_POLICY.observer, limits, NOW_S), { iat: NOW_S, nbf: NOW_S + 3000, exp: NOW_S + 5400 })
  const zeroEarly = { ...DEFAULT_POLICY.provider, earlyJoinMinutes: 0 }
  t.equal(visitTokenWindow({ start: NOW_S + 3600, end: NOW_S + 5400 }, zeroEarly, LIMITS, NOW_S).nbf, NOW_S + 3570)
})

t.test('end <= start is 400 after_start, on the field that set the end', async (t) => {
  t.strictSame(rejection({ start: iso(NOW_S + 3600), end: iso(NOW_S + 3600) }), { code: 'invalid_request', status: 400, errors: [{ path: '/end', rule: 'after_start' }] })
  t.strictSame(rejection({ start: iso(NOW_S + 3600), end: iso(NOW_S + 3599) }), { code: 'invalid_request', status: 400, errors: [{ path: '/end', rule: 'after_start' }] })
  t.strictSame(rejection({ start: iso(NOW_S + 3600), durationMinutes: 0 }), { code: 'invalid_request', status: 400, errors: [{ path: '/durationMinutes', rule: 'after_start' }] })
  t.equal(rejection({ start: iso(NOW_S + 3600), end: iso(NOW_S + 3601) }), 'accepted', 'one second is enough')
  t.strictSame(rejection({ start: '2026-11-21T16:00:00Z', end: '2026-11-21T16:00:00.900Z' }), { code: 'invalid_request', status: 400, errors: [{ path: '/end', rule: 'after_start' }] }, 'sub-second visit is empty after truncation')
})

t.test('longer than MAX_VISIT_MINUTES is 400 max_visit_minutes', async (t) => {
  t.equal(rejection({ start: iso(NOW_S), durationMinutes: 720 }), 'accepted')
  t.equal(rejection({ start: iso(NOW_S), end: iso(NOW_S + 720 * MIN) }), 'accepted')
  t.strictSame(rejection({ start: iso(NOW_S), durationMinutes: 721 }), { code: 'invalid_request', status: 400, errors: [{ path: '/durationMinutes', rule: 'max_visit_minutes' }] })
  t.strictSame(rejection({ start: iso(NOW_S), end: iso(NOW_S + 720 * MIN + 1) }), { code: 'invalid_request', status: 400, errors: [{ path: '/end', rule: 'max_visit_minutes' }] })
  t.strictSame(rejection({ start: iso(NOW_S), durationMinutes: 61 }, { ...LIMITS, maxVisitMinutes: 60 }), { code: 'invalid_request', status: 400, errors: [{ path: '/durationMinutes', rule: 'max_visit_minutes' }] })
})

t.test('start more than MAX_ADVANCE_DAYS ahead is 400 max_advance_days', async (t) => {
  t.equal(rejection({ start: iso(NOW_S + 90 * DAY), durationMinutes: 30 }), 'accepted', 'exactly 90 days')
  t.strictSame(rejection({ start: iso(NOW_S + 90 * DAY + 1), durationMinutes: 30 }), { code: 'invalid_request', status: 400, errors: [{ path: '/start', rule: 'max_advance_days' }] })
  t.strictSame(rejection({ start: iso(NOW_S + 1), durationMinutes: 30 }, { ...LIMITS, maxAdvanceDays: 0 }), { code: 'invalid_request', status: 400, errors: [{ path: '/start', rule: 'max_advance_days' }] })
})

t.test('visit_ended exactly when end + grace <= now', async (t) => {
  const ended = { code: 'visit_ended', status: 400, errors: undefined }
  // end + 30 min == now: ended
  t.strictSame(rejection({ start: iso(NOW_S - 60 * MIN), end: iso(NOW_S - 30 * MIN) }), ended)
  t.strictSame(rejection({ start: iso(NOW_S - 60 * MIN), durationMinutes: 30 }), ended)
  // one second earlier (end + grace = now + 1): still joinable
  t.strictSame(resolveVisitTimes({ start: iso(NOW_S - 60 * MIN), end: iso(NOW_S - 30 * MIN + 1) }, LIMITS, NOW_S), { start: NOW_S - 3600, end: NOW_S - 1799 })
  const w = visitTokenWindow({ start: NOW_S - 3600, end: NOW_S - 1799 }, DEFAULT_POLICY.patient, LIMITS, NOW_S)
  t.strictSame(w, { iat: NOW_S, nbf: NOW_S - 30, exp: NOW_S + 1 }, 'a one-second token, still nbf < exp')
  t.strictSame(rejection({ start: iso(NOW_S - 2 * DAY), durationMinutes: 30 }), ended, 'long ago')
  t.strictSame(rejection({ start: iso(NOW_S - 30 * MIN), end: iso(NOW_S) }, { ...LIMITS, lateGraceMinutes: 0 }), ended, 'no grace: ended at end')
})

t.test('ad-hoc window: now − skew to now + DEFAULT_TOKEN_TTL_SECONDS, no grace', async (t) => {
  t.strictSame(adHocTokenWindow(LIMITS, NOW_S), { iat: NOW_S, nbf: NOW_S - 30, exp: NOW_S + 3600 })
  t.strictSame(adHocTokenWindow({ ...LIMITS, nbfSkewSeconds: 5, defaultTokenTtlSeconds: 60 }, NOW_S), { iat: NOW_S, nbf: NOW_S - 5, exp: NOW_S + 60 })
})

t.test('all window values are integers', async (t) => {
  const times = resolveVisitTimes({ start: '2026-11-21T16:00:00.123Z', durationMinutes: 45 }, LIMITS, NOW_S)
  for (const role of ROLES) {
    const w = visitTokenWindow(times, DEFAULT_POLICY[role], LIMITS, NOW_S)
    t.ok(Number.isSafeInteger(w.iat) && Number.isSafeInteger(w.nbf) && Number.isSafeInteger(w.exp), role)
    t.ok(w.nbf < w.exp, `${role}: nbf < exp`)
  }
})

t.test('toIso renders whole seconds in UTC', async (t) => {
  t.equal(toIso(0), '1970-01-01T00:00:00Z')
  t.equal(toIso(NOW_S + 1799), '2026-11-21T15:29:59Z')
})
