// Jitsi claims (contract §6): exact claim sets for every role of the default policy.
import t from 'tap'
import { DEFAULT_POLICY, ROLES, type Role, type RoleTemplate } from '../../src/config/policy.js'
import { buildJitsiClaims, type ClaimsConfig, type ClaimsInput } from '../../src/services/claims.js'
import { NOW_S } from '../helper.js'

const CFG: ClaimsConfig = { issuer: 'openemr_telehealth', audience: 'jitsi', subject: 'meet.jitsi', includeEmail: false }
const WINDOW = { iat: NOW_S, nbf: NOW_S - 30, exp: NOW_S + 3600 }

/** The 14 feature keys of contract §6, in the contract's order, all "false". */
const ALL_FALSE = {
  'screen-sharing': 'false',
  'send-groupchat': 'false',
  recording: 'false',
  transcription: 'false',
  livestreaming: 'false',
  'outbound-call': 'false',
  'sip-outbound-call': 'false',
  'inbound-call': 'false',
  'sip-inbound-call': 'false',
  'create-polls': 'false',
  'file-upload': 'false',
  lobby: 'false',
  moderation: 'false',
  'list-visitors': 'false'
} as const
const grant = (...keys: Array<keyof typeof ALL_FALSE>) => ({ ...ALL_FALSE, ...Object.fromEntries(keys.map((k) => [k, 'true'])) })

/** Contract §6 "Default role templates", transcribed by hand (not read from src/). */
const EXPECTED: Record<Role, { moderator: boolean, lobby: boolean, features: Record<string, string>, withConsent: Record<string, string> }> = {
  provider: {
    moderator: true,
    lobby: true,
    features: grant('screen-sharing', 'send-groupchat', 'create-polls', 'lobby', 'moderation'),
    withConsent: grant('screen-sharing', 'send-groupchat', 'create-polls', 'lobby', 'moderation', 'recording', 'transcription')
  },
  patient: { moderator: false, lobby: false, features: grant('screen-sharing', 'send-groupchat'), withConsent: grant('screen-sharing', 'send-groupchat') },
  caregiver: { moderator: false, lobby: false, features: grant('screen-sharing', 'send-groupchat'), withConsent: grant('screen-sharing', 'send-groupchat') },
  interpreter: { moderator: false, lobby: true, features: grant('send-groupchat'), withConsent: grant('send-groupchat') },
  observer: { moderator: false, lobby: false, features: grant(), withConsent: grant() }
}

function input (role: Role, o: Partial<ClaimsInput> = {}): ClaimsInput {
  return {
    participant: { role, id: `id-${role}`, displayName: `Name ${role}`, email: `${role}@example.org` },
    template: DEFAULT_POLICY[role],
    room: 'pdbvew3dbfzqgvvwoxuw7ohdtq',
    tenant: 'clinic-a',
    window: WINDOW,
    consent: false,
    jti: 'jti-0001',
    ...o
  }
}

for (const role of ROLES) {
  for (const consent of [false, true]) {
    t.test(`${role}, ${consent ? 'with' : 'without'} recording consent: exact claims`, async (t) => {
      const e = EXPECTED[role]
      t.strictSame(buildJitsiClaims(input(role, { consent }), CFG), {
        iss: 'openemr_telehealth',
        aud: 'jitsi',
        sub: 'clinic-a',
        room: 'pdbvew3dbfzqgvvwoxuw7ohdtq',
        iat: NOW_S,
        nbf: NOW_S - 30,
        exp: NOW_S + 3600,
        jti: 'jti-0001',
        moderator: e.moderator,
        context: {
          user: {
            id: `id-${role}`,
            name: `Name ${role}`,
            moderator: e.moderator,
            affiliation: e.moderator ? 'owner' : 'member',
            lobby_bypass: e.lobby
          },
          features: consent ? e.withConsent : e.features
        }
      })
    })
  }
}

t.test('booleans are booleans (a string "false" makes a Jitsi moderator), and absent email is no key at all', async (t) => {
  const c = buildJitsiClaims(input('patient'), CFG)
  t.equal(c.moderator, false)
  t.equal(c.context.user.moderator, false)
  t.equal(c.context.user.lobby_bypass, false)
  t.strictSame(c.context.features, EXPECTED.patient.features)
  t.notOk(Object.hasOwn(c.context.user, 'email'), 'no email key at all, not email: undefined')
})

t.test('every role: 14 feature keys, each the string "true" or "false"', async (t) => {
  for (const role of ROLES) {
    for (const consent of [false, true]) {
      const f = buildJitsiClaims(input(role, { consent }), CFG).context.features
      t.same(Object.keys(f).sort(), Object.keys(ALL_FALSE).sort(), `${role} consent=${consent}`)
      t.ok(Object.values(f).every((v) => v === 'true' || v === 'false'))
    }
  }
})

t.test('recording/transcription are "true" only for a provider with consent', async (t) => {
  for (const role of ROLES) {
    for (const consent of [false, true]) {
      const f = buildJitsiClaims(input(role, { consent }), CFG).context.features
      const expected = role === 'provider' && consent ? 'true' : 'false'
      t.equal(f.recording, expected, `${role} consent=${consent} recording`)
      t.equal(f.transcription, expected, `${role} consent=${consent} transcription`)
      t.equal(f.livestreaming, 'false', 'consent never grants livestreaming')
    }
  }
})

t.test('a non-provider template with consentFeatures still gets no recording (role check is in the builder)', async (t) => {
  const template: RoleTemplate = { ...DEFAULT_POLICY.patient, consentFeatures: ['recording', 'transcription'] }
  const f = buildJitsiClaims(input('patient', { template, consent: true }), CFG).context.features
  t.equal(f.recording, 'false')
  t.equal(f.transcription, 'false')
})

t.test('email only with includeEmail, and only when the participant has one', async (t) => {
  t.notOk('email' in buildJitsiClaims(input('patient'), CFG).context.user)
  const withEmail = buildJitsiClaims(input('patient'), { ...CFG, includeEmail: true })
  t.strictSame(withEmail.context.user, { id: 'id-patient', name: 'Name patient', email: 'patient@example.org', moderator: false, affiliation: 'member', lobby_bypass: false })
  const noAddress = input('patient', { participant: { role: 'patient', id: 'p', displayName: 'P' } })
  t.notOk('email' in buildJitsiClaims(noAddress, { ...CFG, includeEmail: true }).context.user)
})

t.test('sub is the tenant, or the configured subject without one', async (t) => {
  t.equal(buildJitsiClaims(input('patient', { tenant: 'clinic-b' }), CFG).sub, 'clinic-b')
  t.equal(buildJitsiClaims(input('patient', { tenant: undefined }), CFG).sub, 'meet.jitsi')
  t.equal(buildJitsiClaims(input('patient', { tenant: undefined }), { ...CFG, subject: 'meet.example.org' }).sub, 'meet.example.org')
})

t.test('iss, aud, room, jti and the window come from the inputs unchanged', async (t) => {
  const c = buildJitsiClaims(input('observer', { room: 'custom-room-1', jti: 'abc', window: { iat: 10, nbf: 5, exp: 99 } }), { ...CFG, issuer: 'iss-x', audience: 'aud-y' })
  t.same({ iss: c.iss, aud: c.aud, room: c.room, jti: c.jti, iat: c.iat, nbf: c.nbf, exp: c.exp }, { iss: 'iss-x', aud: 'aud-y', room: 'custom-room-1', jti: 'abc', iat: 10, nbf: 5, exp: 99 })
  t.type(c.aud, 'string')
})

t.test('moderator and affiliation follow the template (policy overrides)', async (t) => {
  const promoted: RoleTemplate = { ...DEFAULT_POLICY.interpreter, moderator: true, lobbyBypass: false, features: ['file-upload'] }
  const c = buildJitsiClaims(input('interpreter', { template: promoted }), CFG)
  t.equal(c.moderator, true)
  t.same(c.context.user, { id: 'id-interpreter', name: 'Name interpreter', moderator: true, affiliation: 'owner', lobby_bypass: false })
  t.same(c.context.features, grant('file-upload'))
  const demoted: RoleTemplate = { ...DEFAULT_POLICY.provider, moderator: false }
  const d = buildJitsiClaims(input('provider', { template: demoted }), CFG)
  t.same([d.moderator, d.context.user.moderator, d.context.user.affiliation], [false, false, 'member'])
})

t.test('the default policy is the contract table', async (t) => {
  t.same(DEFAULT_POLICY, {
    provider: { moderator: true, lobbyBypass: true, earlyJoinMinutes: 15, features: ['screen-sharing', 'send-groupchat', 'create-polls', 'lobby', 'moderation'], consentFeatures: ['recording', 'transcription'] },
    patient: { moderator: false, lobbyBypass: false, earlyJoinMinutes: 10, features: ['screen-sharing', 'send-groupchat'], consentFeatures: [] },
    caregiver: { moderator: false, lobbyBypass: false, earlyJoinMinutes: 10, features: ['screen-sharing', 'send-groupchat'], consentFeatures: [] },
    interpreter: { moderator: false, lobbyBypass: true, earlyJoinMinutes: 15, features: ['send-groupchat'], consentFeatures: [] },
    observer: { moderator: false, lobbyBypass: false, earlyJoinMinutes: 10, features: [], consentFeatures: [] }
  })
})

t.test('the display name and id are passed through as given (validation happens in the schema)', async (t) => {
  for (const name of ["O'Brien", 'Nguyễn Thị Minh Khai', '李小龍', 'محمد']) {
    const c = buildJitsiClaims(input('patient', { participant: { role: 'patient', id: 'pid:42@x', displayName: name } }), CFG)
    t.equal(c.context.user.name, name)
    t.equal(c.context.user.id, 'pid:42@x')
  }
})
