// The usage examples in docs/clients.md and the client READMEs run as written (only the service
// URL, client id, key path and start time swapped for the live test service), stay under
// 15 lines, and the READMEs and docs/clients.md show the same code.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { jwtVerify } from 'jose'
import t, { type Test } from 'tap'
import { JITSI_SECRET } from '../helper.js'
import { hasCommand, liveServer, liveVisit, runDriver, type Live } from './fixtures/live.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string) => readFileSync(join(root, path), 'utf8')
const block = (markdown: string, lang: string): string => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'u').exec(markdown)
  if (m === null) throw new Error(`no ${lang} block`)
  return m[1] as string
}
const DOCS = read('docs/clients.md')

/** Both join URLs point at the visit's room and carry a token signed with the Jitsi secret. */
async function checkUrls (t: Test, stdout: string) {
  const urls = JSON.parse(stdout.trim().split('\n').at(-1) as string) as string[]
  t.equal(urls.length, 2)
  for (const url of urls) {
    t.match(url, /^https:\/\/meet\.example\.org\/clinic-a\/[a-z2-7]{26}\?jwt=/u)
    await jwtVerify(url.split('?jwt=')[1] as string, new TextEncoder().encode(JITSI_SECRET), { audience: 'jitsi', issuer: 'openemr_telehealth' })
  }
}
const swap = (code: string, live: Live, keyPath: string, clientId: string) => code
  .replace('https://tokens.clinic.internal', live.url)
  .replace(/\/run\/secrets\/[a-z0-9-]+(\.pem)?/u, keyPath)
  .replace(/'(ehr|openemr)-main'|"ehr-main"/u, `'${clientId}'`)
  .replace('2026-11-21T15:00:00Z', liveVisit().start)

t.test('every example is under 15 lines and the READMEs match docs/clients.md', async (t) => {
  for (const [lang, readme] of [['php', 'clients/php/README.md'], ['python', 'clients/python/README.md'], ['ts', undefined]] as const) {
    const code = block(DOCS, lang)
    t.ok(code.trimEnd().split('\n').length < 15, `${lang}: ${code.trimEnd().split('\n').length} lines`)
    if (readme !== undefined) t.equal(block(read(readme), lang), code, `${readme} shows the same ${lang} code`)
  }
})

t.test('the PHP (OpenEMR) example', { skip: hasCommand('php') ? false : 'php is not installed' }, async (t) => {
  const live = await liveServer(t)
  const stubs = `<?php
$at = time() + 600; $eid = 4711; $_SESSION = ['authUserID' => 1];
function sqlQuery(string $sql, array $binds): array {
    global $at;
    if (str_contains($sql, 'openemr_postcalendar_events')) return ['pc_eid' => '4711', 'pc_aid' => '7', 'pc_pid' => '42', 'pc_eventDate' => date('Y-m-d', $at), 'pc_startTime' => date('H:i:s', $at), 'pc_duration' => '1800'];
    return str_contains($sql, 'FROM users') ? ['fname' => 'Ada', 'lname' => 'Smith'] : ['fname' => 'José', 'lname' => 'Núñez'];
}
`
  const code = swap(block(DOCS, 'php'), live, live.keys.hs, 'openemr-main')
    .replace("__DIR__ . '/JitsiTokenClient.php'", JSON.stringify(join(root, 'clients/php/JitsiTokenClient.php')))
  const file = join(live.dir, 'example.php')
  writeFileSync(file, `${stubs}${code}echo json_encode([$providerUrl, $patientUrl], JSON_UNESCAPED_SLASHES), "\\n";\n`)
  const run = await runDriver('php', [file], {})
  t.equal(run.code, 0, run.stderr + run.stdout)
  await checkUrls(t, run.stdout)
})

t.test('the Python example', { skip: hasCommand('python3') ? false : 'python3 is not installed' }, async (t) => {
  const live = await liveServer(t)
  const code = swap(block(DOCS, 'python'), live, live.keys.hs, 'openemr-main')
    .replace(/^( +)(provider_url, patient_url = .*)$/mu, '$1$2\n$1print(json.dumps([provider_url, patient_url]))')
  const file = join(live.dir, 'example.py')
  writeFileSync(file, `import json, sys\nsys.path.insert(0, ${JSON.stringify(join(root, 'clients/python'))})\n${code}`)
  const run = await runDriver('python3', [file], {})
  t.equal(run.code, 0, run.stderr + run.stdout)
  await checkUrls(t, run.stdout)
})

t.test('the TypeScript example', async (t) => {
  const live = await liveServer(t)
  const code = swap(block(DOCS, 'ts'), live, live.keys.ec, 'ehr-rsa')
    .replace("'jitsi-token-service/client'", JSON.stringify(join(root, 'src/client/index.ts')))
    .replace(/^( +)(const \[providerUrl, patientUrl\] = .*)$/mu, '$1$2\n$1console.log(JSON.stringify([providerUrl, patientUrl]))')
  const file = join(live.dir, 'example.mts')
  writeFileSync(file, code)
  const run = await runDriver(process.execPath, ['--import', 'tsx', file], { NODE_PATH: join(root, 'node_modules') })
  t.equal(run.code, 0, run.stderr + run.stdout)
  await checkUrls(t, run.stdout)
})
