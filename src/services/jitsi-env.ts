// What a docker-jitsi-meet `.env` means for token checks (jitsi-token-rules §10), with the
// defaults the docker images apply when a variable is unset. Pure: no I/O, no Fastify.

export interface JitsiSettings {
  /** false when no environment was given and docker defaults for a JWT deployment are assumed */
  given: boolean
  /** ENABLE_AUTH on and AUTH_TYPE=jwt: without both, Jitsi never looks at a token */
  tokenAuth: boolean
  appId?: string
  /** only used to verify HS* signatures; never reported */
  appSecret?: string
  /** `toBool` of JWT_APP_SECRET: docker writes app_secret only when this is true */
  appSecretWritten: boolean
  signType: string
  keyServer?: string
  /** `undefined` = option absent: Prosody then accepts only app_id */
  acceptedIssuers?: readonly string[]
  /** `undefined` = option absent: Prosody then accepts any audience */
  acceptedAudiences?: readonly string[]
  domainVerification: boolean
  xmppDomain: string
  mucModules: readonly string[]
  jicofoAuth: boolean
  autoOwner: boolean
  allowEmpty: boolean
  guests: boolean
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

/**
 * The `toBool` of jitsi/tpl as the docker templates use it: Go's bool words, and any
 * other non-empty string counts as true.
 */
export function toBool (value: string | undefined, def = false): boolean {
  if (value === undefined || value === '') return def
  if (TRUE_WORDS.has(value)) return true
  if (FALSE_WORDS.has(value)) return false
  return true
}

const list = (value: string | undefined): string[] | undefined => {
  if (value === undefined || value.trim() === '') return undefined
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

/** Docker defaults for a deployment that turned JWT on, used when no `.env` is given. */
export const ASSUMED_JWT_ENV: Readonly<Record<string, string>> = Object.freeze({ ENABLE_AUTH: '1', AUTH_TYPE: 'jwt' })

export function resolveJitsiSettings (env: Readonly<Record<string, string>> | undefined): JitsiSettings {
  const given = env !== undefined
  const e: Record<string, string | undefined> = { ...(env ?? ASSUMED_JWT_ENV) }
  const enableAuth = toBool(e.ENABLE_AUTH)
  const authType = e.AUTH_TYPE ?? e.PROSODY_AUTH_TYPE ?? 'internal'
  const keyServer = e.JWT_ASAP_KEYSERVER === '' ? undefined : e.JWT_ASAP_KEYSERVER
  return {
    given,
    tokenAuth: enableAuth && authType === 'jwt',
    appId: e.JWT_APP_ID === '' ? undefined : e.JWT_APP_ID,
    appSecret: e.JWT_APP_SECRET === '' ? undefined : e.JWT_APP_SECRET,
    appSecretWritten: toBool(e.JWT_APP_SECRET),
    // Prosody's signature_algorithm default: RS256 with a key server, else HS256.
    signType: e.JWT_SIGN_TYPE !== undefined && e.JWT_SIGN_TYPE !== '' ? e.JWT_SIGN_TYPE : keyServer !== undefined ? 'RS256' : 'HS256',
    keyServer,
    acceptedIssuers: list(e.JWT_ACCEPTED_ISSUERS),
    acceptedAudiences: list(e.JWT_ACCEPTED_AUDIENCES),
    domainVerification: toBool(e.JWT_ENABLE_DOMAIN_VERIFICATION),
    xmppDomain: e.XMPP_DOMAIN !== undefined && e.XMPP_DOMAIN !== '' ? e.XMPP_DOMAIN.toLowerCase() : 'meet.jitsi',
    mucModules: list(e.XMPP_MUC_MODULES) ?? [],
    // jicofo.conf: JICOFO_ENABLE_AUTH defaults to ENABLE_AUTH
    jicofoAuth: toBool(e.JICOFO_ENABLE_AUTH, enableAuth),
    // jicofo's conference.enable-auto-owner defaults to true
    autoOwner: toBool(e.ENABLE_AUTO_OWNER, true),
    allowEmpty: toBool(e.JWT_ALLOW_EMPTY),
    guests: toBool(e.ENABLE_GUESTS)
  }
}

/**
 * Parses a docker-compose style `.env`: KEY=value lines, `#` comments, optional `export `,
 * single or double quotes, and ` #` inline comments after unquoted values.
 */
export function parseEnvFile (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of text.split(/\r?\n/u)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/u.exec(line)
    if (m === null) continue
    const key = m[1] as string
    let value = m[2] as string
    const quote = value[0]
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.lastIndexOf(quote) > 0) {
      value = value.slice(1, value.lastIndexOf(quote))
      if (quote === '"') value = value.replace(/\\n/gu, '\n').replace(/\\(["\\])/gu, '$1')
    } else {
      value = value.replace(/\s+#.*$/u, '').trim()
    }
    out[key] = value
  }
  return out
}
