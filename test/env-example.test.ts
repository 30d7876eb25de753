// .env.example documents every variable the config reads, and fails closed exactly as shipped.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { ConfigError, parseConfig } from '../src/config.js'

const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8')

t.test('every variable in src/config.ts is documented in .env.example', async (t) => {
  const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8')
  const names = new Set([...source.matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gmu)].map((m) => m[1] as string))
  for (const secret of ['JWT_APP_SECRET', 'ROOM_NAME_SECRET', 'AUDIT_HASH_SECRET']) { names.add(secret); names.add(`${secret}_FILE`) }
  t.ok(names.size > 30, `${names.size} variables found`)
  for (const name of names) t.match(text, new RegExp(`^#? ?${name}=`, 'mu'), name)
})

t.test('the shipped values are refused: placeholders never reach production', async (t) => {
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=([^#]*)/u.exec(line)
    if (m !== null) env[m[1] as string] = (m[2] as string).trim()
  }
  try {
    parseConfig(env)
    t.fail('config accepted the example')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    const message = (err as Error).message
    for (const name of ['JWT_APP_SECRET', 'ROOM_NAME_SECRET', 'AUDIT_HASH_SECRET']) {
      t.match(message, `${name} is a placeholder value`)
      t.notMatch(message, env[name] as string)
    }
  }
})
