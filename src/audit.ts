// Audit trail (HIPAA 164.312(b)): one structured event per issued token and per refused /v1 request.
// Never names, emails, tokens or bodies; participant ids only as a keyed hash (a plain SHA-256 of an
// MRN is brute-forceable), with AUDIT_HASH_SECRET kept apart from every signing key.
import { createHmac } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { IssuedToken } from './services/issuance.js'

export interface AuditRequest {
  requestId: string
  clientId?: string
  /** the EMR user acting (assertion `sub`) */
  emrSub?: string
}

export interface AuditLog {
  issued (req: AuditRequest, visit: { tenant?: string, room: string }, token: IssuedToken): void
  denied (req: AuditRequest, status: number, reason: string): void
}

export function createAuditLog (logger: FastifyBaseLogger, hashSecret: string): AuditLog {
  const log = logger.child({ audit: true })
  const hash = (id: string) => createHmac('sha256', hashSecret).update(id, 'utf8').digest('base64url').slice(0, 22)
  return {
    issued (req, visit, token) {
      log.info({
        event: 'token_issued',
        outcome: 'issued',
        requestId: req.requestId,
        clientId: req.clientId,
        emrSub: req.emrSub,
        tenant: visit.tenant ?? null,
        room: visit.room,
        role: token.role,
        participant: hash(token.participantId),
        jti: token.jti,
        nbf: token.nbf,
        exp: token.exp
      }, 'audit')
    },
    denied (req, status, reason) {
      log.info({ event: 'request_denied', outcome: 'denied', requestId: req.requestId, clientId: req.clientId, emrSub: req.emrSub, status, reason }, 'audit')
    }
  }
}
