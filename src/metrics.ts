// Prometheus metrics: RED by route template and status class, plus the domain counters ops alert on.
// Labels never carry tenant, room, user or participant values; client ids are registry ids (bounded).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { AUTH_FAILURE_REASONS } from './errors.js'

export interface Metrics {
  registry: Registry
  httpDuration: Histogram<'method' | 'route' | 'status_class'>
  httpRequests: Counter<'method' | 'route' | 'status_class'>
  tokensIssued: Counter<'role'>
  visitsIssued: Counter
  authFailures: Counter<'reason' | 'client'>
  replayRejections: Counter
  rateLimitHits: Counter<'scope'>
  tokenWindow: Histogram
  assertionAge: Histogram<'client'>
  mixedScriptNames: Counter
}

export function createMetrics (): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'jts_' })
  const m: Metrics = {
    registry,
    httpDuration: new Histogram({ name: 'jts_http_request_duration_seconds', help: 'HTTP request duration by route template and status class', labelNames: ['method', 'route', 'status_class'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    httpRequests: new Counter({ name: 'jts_http_requests_total', help: 'HTTP requests by route template and status class', labelNames: ['method', 'route', 'status_class'], registers: [registry] }),
    tokensIssued: new Counter({ name: 'jts_tokens_issued_total', help: 'Jitsi tokens issued, by participant role', labelNames: ['role'], registers: [registry] }),
    visitsIssued: new Counter({ name: 'jts_visits_issued_total', help: 'Visits issued through POST /v1/visits', registers: [registry] }),
    authFailures: new Counter({ name: 'jts_emr_auth_failures_total', help: 'Refused EMR assertions by reason (client = registered id or "unknown")', labelNames: ['reason', 'client'], registers: [registry] }),
    replayRejections: new Counter({ name: 'jts_replay_rejections_total', help: 'EMR assertions refused because their jti was already used', registers: [registry] }),
    rateLimitHits: new Counter({ name: 'jts_rate_limit_hits_total', help: 'Requests answered 429, by limiter (ip, auth_failures, client)', labelNames: ['scope'], registers: [registry] }),
    tokenWindow: new Histogram({ name: 'jts_token_window_seconds', help: 'Issued token validity window (exp - nbf)', buckets: [300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800], registers: [registry] }),
    mixedScriptNames: new Counter({ name: 'jts_display_names_mixed_script_total', help: 'Issued tokens whose display name mixes look-alike scripts (Latin/Cyrillic/Greek...): possible homoglyph impersonation', registers: [registry] }),
    assertionAge: new Histogram({ name: 'jts_emr_assertion_age_seconds', help: 'now - iat of accepted EMR assertions: clock skew between EMR and us', labelNames: ['client'], buckets: [-30, -10, -5, -2, -1, 0, 1, 2, 5, 10, 30, 60, 120, 300], registers: [registry] })
  }
  // Pre-create the reason series so dashboards and alerts see zeros instead of gaps.
  for (const reason of AUTH_FAILURE_REASONS) m.authFailures.inc({ reason, client: 'unknown' }, 0)
  return m
}

export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`
