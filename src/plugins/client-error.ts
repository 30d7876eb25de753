// Answers Node's HTTP parser errors (malformed requests, smuggling shapes, slow clients, oversized
// headers) with the same problem+json body and headers as every other response. These never reach
// Fastify's routing, so the error handler and onSend hooks do not see them.
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { PROBLEM_TYPE_BASE, PROBLEMS, type ProblemCode } from '../errors.js'

export function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  // a reset connection has nobody left to answer
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const code: ProblemCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? 'request_timeout'
    : err.code === 'HPE_HEADER_OVERFLOW' ? 'header_too_large' : 'invalid_request'
  const { status, title } = PROBLEMS[code]
  const body = JSON.stringify({ type: PROBLEM_TYPE_BASE + code, title, status, code, requestId: randomUUID() })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] as string}\r\n` +
      'Content-Type: application/problem+json\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n' +
      `Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  socket.destroy()
}
