// Role templates (contract §6) and POLICY_FILE merging.
import t, { type Test } from 'tap'
import { CONSENT_FEATURES, DEFAULT_POLICY, FEATURE_KEYS, ROLES, loadPolicy } from '../../src/config/policy.js'
import { tempFile } from '../fixtures/jitsi-rs256.js'

const errorOf = (content: string, t: Test): string => {
  try {
    loadPolicy(tempFile(t, 'policy.json', content))
  } catch (err) {
    return (err as Error).message
  }
  return 'loaded'
}

t.test('the catalogue: five roles, the 14 feature keys of contract §6, two consent features', async (t) => {
  t.strictSame([...ROLES], ['provider', 'patient', 'caregiver', 'interpreter', 'observer'])
  t.strictSame([...FEATURE_KEYS], ['screen-sharing', 'send-groupchat', 'recording', 'transcription', 'livestreaming', 'outbound-call', 'sip-outbound-call', 'inbound-call', 'sip-inbound-call', 'create-polls', 'file-upload', 'lobby', 'moderation', 'list-visitors'])
  t.strictSame([...CONSENT_FEATURES], ['recording', 'transcription'])
  t.ok(Object.isFrozen(DEFAULT_POLICY))
  for (const role of ROLES) {
    t.notOk(DEFAULT_POLICY[role].features.some((f) => (CONSENT_FEATURES as readonly string[]).includes(f)), `${role}: no recording without consent`)
  }
})

t.test('no file: the defaults themselves', async (t) => {
  t.equal(loadPolicy(undefined), DEFAULT_POLICY)
  t.equal(loadPolicy(''), DEFAULT_POLICY)
})

t.test('an empty file changes nothing; overrides merge per field', async (t) => {
  t.strictSame(loadPolicy(tempFile(t, 'p.json', '{}')), DEFAULT_POLICY)
  const p = loadPolicy(tempFile(t, 'p.json', JSON.stringify({ provider: { consentFeatures: [] }, interpreter: { moderator: true, earlyJoinMinutes: 0 } })))
  t.strictSame(p.provider, { ...DEFAULT_POLICY.provider, consentFeatures: [] }, 'a deployment can switch recording off entirely')
  t.strictSame(p.interpreter, { moderator: true, lobbyBypass: true, earlyJoinMinutes: 0, features: ['send-groupchat'], consentFeatures: [] })
  t.strictSame(p.patient, DEFAULT_POLICY.patient)
  t.ok(Object.isFrozen(p) && Object.isFrozen(p.interpreter))
  t.strictSame(DEFAULT_POLICY.interpreter.moderator, false, 'the defaults are not mutated by a merge')
})

t.test('refused policy files', async (t) => {
  t.equal(errorOf('[]', t), '(root): Invalid input: expected object, received array')
  t.equal(errorOf('null', t), '(root): Invalid input: expected object, received null')
  t.match(errorOf(JSON.stringify({ patient: null }), t), /^patient: /)
  t.match(errorOf(JSON.stringify({ patient: { moderator: true, colour: 'red' } }), t), /^patient: Unrecognized key: "colour"/)
  t.match(errorOf(JSON.stringify({ patient: { earlyJoinMinutes: 2.5 } }), t), /^patient\.earlyJoinMinutes: /)
  t.match(errorOf(JSON.stringify({ patient: { earlyJoinMinutes: -1 } }), t), /^patient\.earlyJoinMinutes: /)
  t.match(errorOf(JSON.stringify({ provider: { consentFeatures: ['lobby'] } }), t), /^provider\.consentFeatures\.0: /, 'only recording/transcription need consent')
  t.equal(errorOf(JSON.stringify({ observer: { features: ['recording'] } }), t), 'observer.features: recording/transcription may only be granted through consentFeatures')
  t.equal(errorOf(JSON.stringify({ patient: { consentFeatures: ['transcription'] } }), t), '(root): consentFeatures are allowed for the provider role only')
  t.equal(errorOf('{"patient":{"earlyJoinMinutes":5},}', t), 'cannot be read as JSON')
})

t.test('several problems are listed together', async (t) => {
  const msg = errorOf(JSON.stringify({ patient: { earlyJoinMinutes: 999 }, observer: { features: ['recording'] } }), t)
  t.match(msg, /patient\.earlyJoinMinutes: .*; observer\.features: /u)
})
