// The README's PHP and Python signing snippets, run as written against a live server: the recipe an
// OpenEMR developer pastes must produce links, not a 401.
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jwtVerify } from 'jose'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { EMR_SECRET, JITSI_SECRET, testConfig } from './helper.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const block = (lang: string) => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme)
  if (m === null) throw new Error(`no ${lang} block in README`)
  return m[1] as string
}
// the server runs in this process: the clients must run asynchronously
const run = async (cmd: string, args: string[]) => (await promisify(execFile)(cmd, args, { encoding: 'utf8' })).stdout
const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0
const start = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z')
const visit = { appointmentId: 'pc_eid-777', tenant: 'clinic-a', start, durationMinutes: 30, participants: [{ role: 'provider', id: 'user-7', displayName: 'Dr. Ada Smith' }, { role: 'patient', id: 'pid-42', displayName: 'Nguyễn Thị Minh Khai' }] }

const app = await buildApp(testConfig({ LOG_LEVEL: 'silent' }))
await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => app.close())
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

async function check (t: Test, output: string) {
  const links = JSON.parse(output) as { room: string, participants: Array<{ token: string, joinUrl: string }> }
  t.equal(links.participants.length, 2)
  const { payload } = await jwtVerify(links.participants[1]!.token, new TextEncoder().encode(JITSI_SECRET), { currentDate: new Date(start) })
  t.equal((payload.context as { user: { name: string } }).user.name, 'Nguyễn Thị Minh Khai', 'unicode survives the exact-bytes hash')
  t.equal(payload.room, links.room)
}

t.test('PHP snippet', { skip: !has('php') && 'php-cli not installed' }, async (t) => {
  const file = join(tmpdir(), `readme-${process.pid}.php`)
  const code = block('php').replace('https://tokens.internal', base)
  writeFileSync(file, `<?php\n$_SESSION = ['authUserID' => 7];\n$secret = ${JSON.stringify(EMR_SECRET)};\n$visit = json_decode(${JSON.stringify(JSON.stringify(visit))}, true);\n${code}\necho json_encode($links);\n`)
  await check(t, await run('php', [file]))
})

t.test('Python snippet', { skip: !has('python3') && 'python3 not installed' }, async (t) => {
  const code = block('python').replace('https://tokens.internal', base)
  const program = `import json\nsecret = ${JSON.stringify(EMR_SECRET)}\nvisit = json.loads(${JSON.stringify(JSON.stringify(visit))})\n${code}\nprint(json.dumps(links))\n`
  await check(t, await run('python3', ['-c', program]))
})
