// The EMR client registry (contract §2): what loadClients builds, and what it refuses.
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import t from 'tap'
import { loadClients, type Client } from '../../src/config/clients.js'
import { ROLES } from '../../src/config/policy.js'
import { tempFile } from '../fixtures/jitsi-rs256.js'
import { CLIENTS, EMR_SECRET, OTHER_SECRET, ec, ed, rsa, secret } from '../helper.js'

const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string
const errorOf = (json: string): string => {
  try {
    loadClients(json)
  } catch (err) {
    return (err as Error).message
  }
  return 'loaded'
}
const one = (client: Record<string, unknown>) => JSON.stringify([client])

t.test('the helper registry loads with the documented defaults', async (t) => {
  const { byId, hmacSecrets } = loadClients(JSON.stringify(CLIENTS))
  t.strictSame([...byId.keys()], ['openemr-main', 'ehr-rsa', 'ehr-ed', 'patient-portal'])
  const main = byId.get('openemr-main') as Client
  t.strictSame(main.tenants, new Set(['clinic-a', 'clinic-b']))
  t.strictSame(main.roles, new Set(ROLES))
  t.equal(main.allowCustomRooms, false, 'custom rooms are off unless enabled')
  t.strictSame(main.keys.map((k) => [k.kid, k.alg, k.key.type]), [['k1', 'HS256', 'secret']])
  t.ok(main.keys[0]?.key.export().equals(Buffer.from(EMR_SECRET, 'utf8')), 'HMAC key = the UTF-8 bytes of the secret')
  const any = byId.get('ehr-rsa') as Client
  t.equal(any.tenants, '*')
  t.equal(any.allowCustomRooms, true)
  t.strictSame(any.keys.map((k) => [k.kid, k.alg, k.key.type, k.key.asymmetricKeyType]), [['r1', 'RS256', 'public', 'rsa'], ['e1', 'ES256', 'public', 'ec']])
  const ed = byId.get('ehr-ed') as Client
  t.strictSame(ed.tenants, new Set(), 'no tenants given: none listed (tenant-less visits only)')
  t.strictSame(ed.keys.map((k) => [k.kid, k.alg, k.key.asymmetricKeyType]), [[undefined, 'EdDSA', 'ed25519']])
  t.strictSame(byId.get('patient-portal')?.roles, new Set(['patient', 'caregiver']))
  t.strictSame(hmacSecrets, [EMR_SECRET, OTHER_SECRET])
  t.ok(Object.isFrozen(main) && Object.isFrozen(main.keys))
})

t.test('"*" anywhere in tenants means any tenant', async (t) => {
  const { byId } = loadClients(one({ id: 'c', keys: [{ alg: 'HS256', secret: secret() }], tenants: ['clinic-a', '*'] }))
  t.equal(byId.get('c')?.tenants, '*')
})

t.test('secretFile and publicKeyFile are read at load; one trailing newline is dropped', async (t) => {
  const s = secret()
  const { byId, hmacSecrets } = loadClients(one({
    id: 'c',
    keys: [
      { kid: 'h', alg: 'HS256', secretFile: tempFile(t, 'emr.key', `${s}\n`) },
      { kid: 'r', alg: 'RS256', publicKeyFile: tempFile(t, 'emr.pem', spki(rsa.publicKey)) },
      { kid: 'e', alg: 'ES256', publicKey: spki(ec.publicKey) },
      { kid: 'd', alg: 'EdDSA', publicKey: spki(ed.publicKey) }
    ]
  }))
  const keys = byId.get('c')?.keys ?? []
  t.ok(keys[0]?.key.export().equals(Buffer.from(s, 'utf8')))
  t.ok(keys[1]?.key.equals(rsa.publicKey))
  t.strictSame(hmacSecrets, [s])
})

t.test('structural rules', async (t) => {
  const key = { alg: 'HS256', secret: secret() }
  t.match(errorOf(one({ id: 'bad id!', keys: [key] })), /^\[0\]\.id: /)
  t.match(errorOf(one({ id: 'x'.repeat(65), keys: [key] })), /^\[0\]\.id: /)
  t.equal(errorOf(one({ id: 'x'.repeat(64), keys: [key] })), 'loaded')
  t.match(errorOf(one({ id: 'c', keys: [key], tenants: ['Clinic-A'] })), /^\[0\]\.tenants\[0\]: /)
  t.match(errorOf(one({ id: 'c', keys: [key], roles: [] })), /^\[0\]\.roles: /)
  t.match(errorOf(one({ id: 'c', keys: [key], allowCustomRooms: 'true' })), /^\[0\]\.allowCustomRooms: /)
  t.match(errorOf(one({ id: 'c', keys: Array.from({ length: 11 }, (_, i) => ({ kid: `k${i}`, ...key })) })), /^\[0\]\.keys: /)
  t.match(errorOf(one({ id: 'c', keys: [{ ...key, kid: '../etc' }] })), /^\[0\]\.keys\[0\]\.kid: /, 'a kid is never a path')
  t.match(errorOf(one({ id: 'c', keys: [{ ...key, jku: 'https://evil' }] })), /^\[0\]\.keys\[0\]: Unrecognized key/)
  t.equal(errorOf('{"id":"c"}').startsWith('(root): '), true, 'an object instead of an array')
  t.equal(errorOf('nope'), 'is not valid JSON')
})

t.test('private keys are refused in every PEM spelling', async (t) => {
  const rsaPriv = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  const pkcs1 = rsaPriv.export({ type: 'pkcs1', format: 'pem' }) as string
  const pkcs8 = rsaPriv.export({ type: 'pkcs8', format: 'pem' }) as string
  const encrypted = rsaPriv.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string
  for (const [name, pem] of [['PKCS#1', pkcs1], ['PKCS#8', pkcs8], ['encrypted', encrypted]] as const) {
    t.equal(errorOf(one({ id: 'c', keys: [{ alg: 'RS256', publicKey: pem }] })), '[0].keys[0]: publicKey must be a public key, not a private key', name)
    t.notOk(errorOf(one({ id: 'c', keys: [{ alg: 'RS256', publicKey: pem }] })).includes(pem.split('\n')[1] as string), 'key material not echoed')
  }
  t.equal(errorOf(one({ id: 'c', keys: [{ alg: 'RS256', publicKeyFile: tempFile(t, 'priv.pem', pkcs8) }] })), '[0].keys[0]: publicKey must be a public key, not a private key', 'from a file too')
})

t.test('RS256 keys below 2048 bits are refused', async (t) => {
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
  t.equal(errorOf(one({ id: 'c', keys: [{ alg: 'RS256', publicKey: spki(weak) }] })), '[0].keys[0]: RS256 needs an RSA public key of at least 2048 bits')
})

t.test('every problem is reported at once, none with a value', async (t) => {
  const shortSecret = 'short-but-unique-Xy7'
  const msg = errorOf(JSON.stringify([
    { id: 'a', keys: [{ kid: 'k', alg: 'HS256', secret: shortSecret }, { kid: 'k', alg: 'HS256', secret: secret() }] },
    { id: 'a', keys: [{ alg: 'EdDSA', publicKey: spki(rsa.publicKey) }] }
  ]))
  t.equal(msg, '[0].keys[0]: secret is shorter than 32 bytes; [0].keys[1].kid: duplicate kid; [0].keys: every key needs a kid when a client has several; [1].id: duplicate client id; [1].keys[0]: EdDSA needs an Ed25519 public key')
  t.notOk(msg.includes(shortSecret))
})
