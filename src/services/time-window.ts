// When a visit happens and when each participant's token is valid (contract §3, §4, §6).
// Pure: every function takes `now` (seconds) instead of reading the clock.
import { ApiError } from '../errors.js'
import type { RoleTemplate } from '../config/policy.js'

export interface TimeLimits {
  nbfSkewSeconds: number
  lateGraceMinutes: number
  maxVisitMinutes: number
  maxAdvanceDays: number
  defaultTokenTtlSeconds: number
}

export interface VisitTimes { start: number, end: number }
export interface TokenWindow { iat: number, nbf: number, exp: number }
export interface ScheduleInput { start?: string, end?: string, durationMinutes?: number }

export const toSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000)
/** RFC 3339 UTC with second precision, the form every time in our responses takes. */
// toISOString always ends in ".sssZ": dropping it by length beats a regex replace (4 calls per visit + 2 per token)
export const toIso = (seconds: number): string => `${new Date(seconds * 1000).toISOString().slice(0, -5)}Z`

/** Resolves start/end of an appointment and refuses impossible or finished ones. */
export function resolveVisitTimes (input: ScheduleInput & { start: string }, limits: TimeLimits, now: number): VisitTimes {
  const start = toSeconds(input.start)
  const end = input.end !== undefined ? toSeconds(input.end) : start + (input.durationMinutes as number) * 60
  const field = input.end !== undefined ? '/end' : '/durationMinutes'
  if (end <= start) throw new ApiError('invalid_request', { detail: 'end must be after start', errors: [{ path: field, rule: 'after_start' }] })
  if (end - start > limits.maxVisitMinutes * 60) throw new ApiError('invalid_request', { detail: `a visit lasts at most ${limits.maxVisitMinutes} minutes`, errors: [{ path: field, rule: 'max_visit_minutes' }] })
  if (start > now + limits.maxAdvanceDays * 86400) throw new ApiError('invalid_request', { detail: `start is more than ${limits.maxAdvanceDays} days ahead`, errors: [{ path: '/start', rule: 'max_advance_days' }] })
  if (end + limits.lateGraceMinutes * 60 <= now) throw new ApiError('visit_ended', { detail: 'the visit and its late-join grace period are over' })
  return { start, end }
}

/**
 * nbf = max(now, start − early join) − skew (Prosody allows no clock skew at all);
 * exp = end + late grace, because Jitsi drops a participant whose token has expired
 * as soon as their connection has to resume (jitsi-token-rules §8).
 */
export function visitTokenWindow (times: VisitTimes, role: RoleTemplate, limits: TimeLimits, now: number): TokenWindow {
  return {
    iat: now,
    nbf: Math.max(now, times.start - role.earlyJoinMinutes * 60) - limits.nbfSkewSeconds,
    exp: times.end + limits.lateGraceMinutes * 60
  }
}

/** A token not tied to an appointment time: valid from now for the default TTL, no late grace. */
export function adHocTokenWindow (limits: TimeLimits, now: number): TokenWindow {
  return { iat: now, nbf: now - limits.nbfSkewSeconds, exp: now + limits.defaultTokenTtlSeconds }
}
