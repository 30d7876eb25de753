// The EMR client registry (contract §2): who may call us, with which keys, for which tenants and roles.
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { TENANT_PATTERN } from '../lib/patterns.js'
import { ROLES, type Role } from './policy.js'
import { readSecretFile, secretProblem } from './secrets.js'

export const CLIENT_ALGS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const
export type ClientAlg = typeof CLIENT_ALGS[number]

/** Identifiers that are safe to log and to use as map keys. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/u
const TENANT_OR_ANY = z.union([z.literal('*'), z.string().regex(TENANT_PATTERN)])

const KeySchema = z.strictObject({
  kid: z.string().regex(ID_PATTERN).optional(),
  alg: z.enum(CLIENT_ALGS),
  secret: z.string().optional(),
  secretFile: z.string().min(1).optional(),
  publicKey: z.string().optional(),
  publicKeyFile: z.string().min(1).optional()
}).refine((k) => [k.secret, k.secretFile, k.publicKey, k.publicKeyFile].filter((v) => v !== undefined).length === 1,
  'give exactly one of secret, secretFile, publicKey, publicKeyFile')

const ClientSchema = z.strictObject({
  id: z.string().regex(ID_PATTERN),
  keys: z.array(KeySchema).min(1).max(10),
  tenants: z.array(TENANT_OR_ANY).max(1000).optional(),
  roles: z.array(z.enum(ROLES)).min(1).optional(),
  allowCustomRooms: z.boolean().optional()
})
const ClientsSchema = z.array(ClientSchema).min(1).max(1000)

export interface ClientKey {
  kid?: string
  alg: ClientAlg
  key: KeyObject
}

export interface Client {
  id: string
  keys: readonly ClientKey[]
  /** `'*'` means any tenant (and tenant-less visits); otherwise only the listed tenants. */
  tenants: '*' | ReadonlySet<string>
  roles: ReadonlySet<Role>
  allowCustomRooms: boolean
}

export interface LoadedClients {
  byId: ReadonlyMap<string, Client>
  /** HMAC secrets in use, kept only to refuse reuse of the Jitsi or room secret. */
  hmacSecrets: readonly string[]
}

/**
 * Parses the registry JSON and imports every key once, at boot. Throws one message
 * listing every problem by path (e.g. `[0].keys[1]`), never a key or secret value.
 */
export function loadClients (json: string): LoadedClients {
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch {
    throw new Error('is not valid JSON')
  }
  const parsed = ClientsSchema.safeParse(raw)
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '))
  }
  const problems: string[] = []
  const byId = new Map<string, Client>()
  const hmacSecrets: string[] = []
  parsed.data.forEach((c, ci) => {
    if (byId.has(c.id)) problems.push(`[${ci}].id: duplicate client id`)
    const kids = new Set<string>()
    const keys: ClientKey[] = []
    c.keys.forEach((k, ki) => {
      const at = `[${ci}].keys[${ki}]`
      if (k.kid !== undefined) {
        if (kids.has(k.kid)) problems.push(`${at}.kid: duplicate kid`)
        kids.add(k.kid)
      }
      try {
        const imported = importKey(k)
        if (imported.secret !== undefined) hmacSecrets.push(imported.secret)
        keys.push({ kid: k.kid, alg: k.alg, key: imported.key })
      } catch (err) {
        problems.push(`${at}: ${(err as Error).message}`)
      }
    })
    if (c.keys.length > 1 && kids.size !== c.keys.length) problems.push(`[${ci}].keys: every key needs a kid when a client has several`)
    const tenants = c.tenants ?? []
    byId.set(c.id, Object.freeze({
      id: c.id,
      keys: Object.freeze(keys),
      tenants: tenants.includes('*') ? '*' : new Set(tenants),
      roles: new Set(c.roles ?? ROLES),
      allowCustomRooms: c.allowCustomRooms ?? false
    }))
  })
  if (problems.length > 0) throw new Error(problems.join('; '))
  return { byId, hmacSecrets }
}

function importKey (k: z.infer<typeof KeySchema>): { key: KeyObject, secret?: string } {
  if (k.alg === 'HS256') {
    if (k.secret === undefined && k.secretFile === undefined) throw new Error('HS256 needs secret or secretFile')
    const secret = k.secret ?? readOrThrow(k.secretFile as string, 'secretFile')
    const problem = secretProblem(secret)
    if (problem !== undefined) throw new Error(`secret ${problem}`)
    return { key: createSecretKey(Buffer.from(secret, 'utf8')), secret }
  }
  if (k.publicKey === undefined && k.publicKeyFile === undefined) throw new Error(`${k.alg} needs publicKey or publicKeyFile`)
  const pem = k.publicKey ?? readOrThrow(k.publicKeyFile as string, 'publicKeyFile')
  // A private key here would mean the EMR's signing key sits in our config: refuse it.
  if (/PRIVATE KEY/u.test(pem)) throw new Error('publicKey must be a public key, not a private key')
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch {
    throw new Error('publicKey is not a PEM public key')
  }
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails ?? {}
  if (k.alg === 'RS256' && !(type === 'rsa' && (details.modulusLength ?? 0) >= 2048)) throw new Error('RS256 needs an RSA public key of at least 2048 bits')
  if (k.alg === 'ES256' && !(type === 'ec' && details.namedCurve === 'prime256v1')) throw new Error('ES256 needs a P-256 EC public key')
  if (k.alg === 'EdDSA' && type !== 'ed25519') throw new Error('EdDSA needs an Ed25519 public key')
  return { key }
}

function readOrThrow (path: string, field: string): string {
  try {
    return readSecretFile(path)
  } catch {
    throw new Error(`${field} cannot be read`)
  }
}

function formatPath (path: readonly PropertyKey[]): string {
  return path.map((p) => typeof p === 'number' ? `[${p}]` : `.${String(p)}`).join('') || '(root)'
}
