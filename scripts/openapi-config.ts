// A throwaway configuration for rendering the OpenAPI document: the document never depends on config.
import { randomBytes } from 'node:crypto'
import { parseConfig } from '../src/config.js'

export function openapiConfig () {
  const s = () => randomBytes(32).toString('base64url')
  return parseConfig({
    JITSI_BASE_URL: 'https://meet.invalid',
    JWT_APP_ID: 'openapi',
    JWT_APP_SECRET: s(),
    ROOM_NAME_SECRET: s(),
    AUDIT_HASH_SECRET: s(),
    LOG_LEVEL: 'silent',
    CLIENTS_JSON: JSON.stringify([{ id: 'openapi', keys: [{ alg: 'HS256', secret: s() }] }])
  })
}
