// Join links (contract §6): base + optional tenant + room, then the token as ?jwt= or #jwt=%22…%22.
import t from 'tap'
import { joinUrl, roomUrl } from '../../src/services/join-url.js'

const TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb29tIjoiYWJjIn0.c2lnbmF0dXJlLV8'

t.test('roomUrl: base, tenant, room', async (t) => {
  t.equal(roomUrl('https://meet.example.org', 'pdbvew3dbfzqgvvwoxuw7ohdtq', 'clinic-a'), 'https://meet.example.org/clinic-a/pdbvew3dbfzqgvvwoxuw7ohdtq')
  t.equal(roomUrl('https://meet.example.org', 'pdbvew3dbfzqgvvwoxuw7ohdtq'), 'https://meet.example.org/pdbvew3dbfzqgvvwoxuw7ohdtq', 'no tenant: no tenant segment')
  t.equal(roomUrl('https://example.org/jitsi', 'room-1', 'clinic-b'), 'https://example.org/jitsi/clinic-b/room-1', 'base with a path prefix')
  t.equal(roomUrl('https://meet.example.org:8443', 'room-1'), 'https://meet.example.org:8443/room-1')
})

t.test('query mode: exactly one jwt parameter carrying the token unchanged', async (t) => {
  const link = joinUrl('https://meet.example.org/clinic-a/room-1', TOKEN, 'query')
  t.equal(link, `https://meet.example.org/clinic-a/room-1?jwt=${TOKEN}`)
  const u = new URL(link)
  t.strictSame(u.searchParams.getAll('jwt'), [TOKEN])
  t.strictSame([...u.searchParams.keys()], ['jwt'])
  t.equal(u.hash, '')
  t.equal(u.pathname, '/clinic-a/room-1')
})

t.test('fragment mode: #jwt=%22<token>%22, which the web client JSON-parses back to the token', async (t) => {
  const link = joinUrl('https://meet.example.org/clinic-a/room-1', TOKEN, 'fragment')
  t.equal(link, `https://meet.example.org/clinic-a/room-1#jwt=%22${TOKEN}%22`)
  const u = new URL(link)
  t.equal(u.search, '', 'nothing in the query, so nothing in proxy logs')
  // What jitsi-meet's parseURLParams does with a hash: split on &, decode, JSON.parse the value.
  const [key, value] = u.hash.slice(1).split('=')
  t.equal(key, 'jwt')
  t.equal(JSON.parse(decodeURIComponent(value as string)), TOKEN)
})

t.test('a compact JWS needs no escaping in either position', async (t) => {
  // base64url and "." only: the same string survives URL parsing untouched
  for (const mode of ['query', 'fragment'] as const) {
    const u = new URL(joinUrl('https://m.example.org/r', TOKEN, mode))
    t.ok(u.href.includes(TOKEN), mode)
  }
})
