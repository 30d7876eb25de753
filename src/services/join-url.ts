// Join links (contract §6): base URL, optional tenant path, room, then the token.

/** https://meet.example.org[/prefix]/<tenant>/<room> */
export function roomUrl (baseUrl: string, room: string, tenant?: string): string {
  return tenant === undefined ? `${baseUrl}/${room}` : `${baseUrl}/${tenant}/${room}`
}

/**
 * `?jwt=` works everywhere; `#jwt=%22…%22` keeps the token out of proxy access logs. The
 * web client JSON-parses hash values, so the fragment form must be a quoted JSON string.
 */
export function joinUrl (room: string, token: string, mode: 'query' | 'fragment'): string {
  return mode === 'query' ? `${room}?jwt=${token}` : `${room}#jwt=%22${token}%22`
}
