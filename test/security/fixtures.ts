// Shared fixtures for the attack-catalogue suites (test/security/*.test.ts, SECURITY.md has the index).
// Hand-made tokens (raw base64url, any header/payload text), the uniform-401 assertion, log helpers,
// spies that prove no outbound network / file access happens, and bounded raw-socket helpers.
import { createHmac } from 'node:crypto'
import dns from 'node:dns'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { syncBuiltinESMExports } from 'node:module'
import net from 'node:net'
import tls from 'node:tls'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { BuildOptions } from '../../src/app.js'
import { assertionClaims, build, EMR_SECRET, visitBody, type Built, type LogCapture } from '../helper.js'

/**
 * Rate limits and load shedding out of the way: these suites send hundreds of bad tokens from one
 * address on purpose. The rows about limits (E-55/56, E-60) build with the real defaults instead.
 */
export const RELAXED_ENV = {
  RATE_LIMIT_IP_MAX: '1000000',
  RATE_LIMIT_AUTH_FAIL_MAX: '1000000',
  RATE_LIMIT_CLIENT_MAX: '10000000',
  MAX_EVENT_LOOP_DELAY_MS: '10000'
}

export async function buildSec (t: Test, o: { env?: Record<string, string | undefined>, build?: BuildOptions } = {}): Promise<Built> {
  return await build(t, { env: { ...RELAXED_ENV, ...o.env }, ...(o.build !== undefined ? { build: o.build } : {}) })
}

export const VISITS = '/v1/visits'
export const TOKENS = '/v1/tokens'

/** base64url without padding of a string (UTF-8), bytes, or an object (JSON). */
export function b64u (v: string | Uint8Array | object): string {
  if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('base64url')
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64url')
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64url')
}

/** A segment from a header/payload given as JSON text, bytes or an object. */
const segment = (v: string | Uint8Array | object) => b64u(v)

/** header.payload.signature with whatever the test wants in each part. */
export function rawToken (header: string | Uint8Array | object, payload: string | Uint8Array | object, signature = ''): string {
  return `${segment(header)}.${segment(payload)}.${signature}`
}

/** HS256 over any header/payload text: lets a test sign JSON that JSON.stringify cannot produce (1e400, duplicate keys). */
export function hs256Raw (header: string | Uint8Array | object, payload: string | Uint8Array | object, key: string | Uint8Array = EMR_SECRET, hash = 'sha256'): string {
  const input = `${segment(header)}.${segment(payload)}`
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`
}

export const HS_HEADER = { alg: 'HS256', typ: 'emr-request+jwt', kid: 'k1' } as const

/** The claims a correct openemr-main assertion carries for one request (test/helper.ts). */
export const goodClaims = assertionClaims

/**
 * Payload JSON text from claims, with `raw` values spliced in verbatim (e.g. `{ exp: '1e400' }`),
 * so number forms that JSON.stringify would normalise reach the service as written.
 */
export function payloadText (claims: Record<string, unknown>, raw: Record<string, string> = {}): string {
  const parts = Object.entries(claims).filter(([k]) => !(k in raw)).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
  for (const [k, v] of Object.entries(raw)) parts.push(`${JSON.stringify(k)}:${v}`)
  return `{${parts.join(',')}}`
}

export const visitRaw = (overrides: Record<string, unknown> = {}) => JSON.stringify(visitBody(overrides))

let lastBreath = Date.now()
/**
 * Gives the event loop a moment of idle time every 20 ms of back-to-back injects. Without it a
 * tight test loop drives event-loop utilisation past under-pressure's 0.98 and the app (rightly)
 * sheds load with 503, which is not what the row under test is about.
 */
export async function breathe (): Promise<void> {
  if (Date.now() - lastBreath < 20) return
  await new Promise((resolve) => setTimeout(resolve, 2))
  lastBreath = Date.now()
}

/** POST raw bytes with the given Authorization value (or none). */
export async function send (app: FastifyInstance, authorization: string | undefined, raw: string | Buffer, o: { path?: string, method?: string, contentType?: string | null, headers?: Record<string, string | string[]>, remoteAddress?: string } = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string | string[]> = { ...o.headers }
  if (o.contentType !== null) headers['content-type'] = o.contentType ?? 'application/json'
  if (authorization !== undefined) headers.authorization = authorization
  await breathe()
  return await app.inject({ method: (o.method ?? 'POST') as 'POST', url: o.path ?? VISITS, headers, payload: raw, ...(o.remoteAddress !== undefined ? { remoteAddress: o.remoteAddress } : {}) })
}

/** Sends a hand-made token as the Bearer credential for a valid visit body. */
export async function sendToken (app: FastifyInstance, token: string, raw: string | Buffer = visitRaw(), o: { path?: string, method?: string, remoteAddress?: string } = {}): Promise<LightMyRequestResponse> {
  return await send(app, `Bearer ${token}`, raw, o)
}

/** Signs a valid visit request with HS256 claims changed by `edit` (raw JSON splices in `raw`). */
export async function sendClaims (app: FastifyInstance, edit: (c: Record<string, unknown>) => void, o: { raw?: Record<string, string>, header?: object, body?: string } = {}): Promise<LightMyRequestResponse> {
  const body = o.body ?? visitRaw()
  const claims = goodClaims({ body })
  edit(claims)
  return await sendToken(app, hs256Raw(o.header ?? HS_HEADER, payloadText(claims, o.raw)), body)
}

/** The one 401 the service gives for every token failure (catalogue "error contract"). */
export function assert401 (t: Test, res: LightMyRequestResponse, what = 'rejected'): void {
  t.equal(res.statusCode, 401, `${what}: 401`)
  if (res.statusCode !== 401) return
  const body = res.json() as Record<string, unknown>
  t.same(Object.keys(body).sort(), ['code', 'requestId', 'status', 'title', 'type'], `${what}: uniform body keys`)
  t.match(body, { title: 'Unauthorized', status: 401, code: 'invalid_token' }, `${what}: uniform body`)
  t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"', `${what}: WWW-Authenticate`)
  t.match(String(res.headers['content-type']), /^application\/problem\+json/u, `${what}: problem+json`)
  t.equal(res.headers['cache-control'], 'no-store', `${what}: no-store`)
}

/** 400 problem body: field paths and rule names only. */
export function assert400 (t: Test, res: LightMyRequestResponse, what = 'rejected'): void {
  t.equal(res.statusCode, 400, `${what}: 400`)
  if (res.statusCode === 400) t.match(res.json(), { code: 'invalid_request', status: 400 }, `${what}: invalid_request`)
}

export type LogRecord = Record<string, unknown>
export const authFailures = (logs: LogCapture): LogRecord[] => logs.records().filter((r) => r.msg === 'emr authentication failed')
export const lastAuthFailure = (logs: LogCapture): LogRecord | undefined => authFailures(logs).at(-1)

/** Runs `fn` over `items` with at most `limit` in flight (bounded parallelism for inject/socket loops). */
export async function pool<T, R> (items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

// ---------------------------------------------------------------------------------------------
// Spies: every way out of the process (network, DNS) or onto the disk (file reads) is recorded.

type Patchable = Record<string, unknown>

function patch (t: Test, calls: string[], target: Patchable, names: readonly string[], label: string): void {
  for (const name of names) {
    const original = target[name]
    if (typeof original !== 'function') continue
    target[name] = function (this: unknown, ...args: unknown[]) {
      calls.push(`${label}.${name}(${describeArg(args[0])})`)
      return (original as (...a: unknown[]) => unknown).apply(this, args)
    }
    t.teardown(() => { target[name] = original; syncBuiltinESMExports() })
  }
}

function describeArg (a: unknown): string {
  if (typeof a === 'string') return a.slice(0, 80)
  if (a instanceof URL) return a.href.slice(0, 80)
  if (a !== null && typeof a === 'object') return JSON.stringify(a, (_k, v: unknown) => typeof v === 'function' ? undefined : v)?.slice(0, 80) ?? ''
  return String(a)
}

/**
 * Records any outbound request or lookup (fetch, http(s).request/get, net/tls.connect, dns) for
 * the rest of the test. Callers assert `calls` is empty: no key is ever fetched from a token.
 */
export function networkSpy (t: Test): { calls: string[] } {
  const calls: string[] = []
  const g = globalThis as unknown as Patchable
  patch(t, calls, g, ['fetch'], 'globalThis')
  patch(t, calls, http as unknown as Patchable, ['request', 'get'], 'http')
  patch(t, calls, https as unknown as Patchable, ['request', 'get'], 'https')
  patch(t, calls, net as unknown as Patchable, ['connect', 'createConnection'], 'net')
  patch(t, calls, tls as unknown as Patchable, ['connect'], 'tls')
  patch(t, calls, dns as unknown as Patchable, ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny'], 'dns')
  patch(t, calls, dns.promises as unknown as Patchable, ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny'], 'dns.promises')
  syncBuiltinESMExports()
  return { calls }
}

/** Records file opens/reads for the rest of the test (a `kid` must never become a path). */
export function fsSpy (t: Test): { calls: string[] } {
  const calls: string[] = []
  patch(t, calls, fs as unknown as Patchable, ['open', 'openSync', 'readFile', 'readFileSync', 'createReadStream', 'stat', 'statSync', 'access', 'accessSync', 'existsSync'], 'fs')
  patch(t, calls, fs.promises as unknown as Patchable, ['open', 'readFile', 'stat', 'access'], 'fs.promises')
  syncBuiltinESMExports()
  return { calls }
}

// ---------------------------------------------------------------------------------------------
// Raw sockets on a real loopback port. Every socket is tracked and destroyed at teardown.

export async function listen (app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export class SocketSet {
  readonly sockets = new Set<net.Socket>()
  constructor (t: Test) {
    t.teardown(() => this.destroyAll())
  }

  /** Connects to 127.0.0.1:port (never anything else). */
  async connect (port: number): Promise<net.Socket> {
    return await new Promise((resolve, reject) => {
      const s = net.createConnection({ host: '127.0.0.1', port })
      this.sockets.add(s)
      s.once('connect', () => { s.off('error', reject); resolve(s) })
      s.once('error', reject)
      s.on('close', () => this.sockets.delete(s))
    })
  }

  destroyAll (): void {
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
  }
}

export interface RawResult {
  /** everything the server sent, latin1 */
  data: string
  /** the server closed (or reset) the connection */
  closed: boolean
  /** ms from the first write to close (or to the deadline) */
  elapsedMs: number
}

/**
 * Collects what the server sends on `socket` until it closes or `deadlineMs` passes
 * (then the socket is destroyed by us and `closed` is false).
 */
export async function collect (socket: net.Socket, deadlineMs: number, started = Date.now()): Promise<RawResult> {
  return await new Promise((resolve) => {
    const chunks: Buffer[] = []
    let done = false
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve({ data: Buffer.concat(chunks).toString('latin1'), closed, elapsedMs: Date.now() - started })
      if (!closed) socket.destroy()
    }
    const timer = setTimeout(() => finish(false), deadlineMs)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => finish(true))
    socket.on('close', () => finish(true))
    if (socket.destroyed) finish(true)
  })
}

/** One raw exchange: write `bytes` (optionally half-close), collect until close or deadline. */
export async function rawExchange (sockets: SocketSet, port: number, bytes: string | Buffer, o: { deadlineMs?: number, end?: boolean } = {}): Promise<RawResult> {
  const s = await sockets.connect(port)
  const started = Date.now()
  const result = collect(s, o.deadlineMs ?? 3000, started)
  s.write(bytes)
  if (o.end === true) s.end()
  return await result
}

/** Status codes of every HTTP response found in a raw byte stream. */
export const statuses = (data: string): number[] => [...data.matchAll(/HTTP\/1\.1 (\d{3}) /gu)].map((m) => Number(m[1]))
