// Opaque, deterministic, PHI-free room names (contract §5).
import { createHmac } from 'node:crypto'
import { base32nopad } from '@scure/base'

/** 26 base32 characters = 130 bits of the HMAC: collisions are out of reach. */
export const ROOM_HASH_CHARS = 26
export const ROOM_NAME_PATTERN = /^[a-z0-9-]{0,16}[a-z2-7]{26}$/u

/**
 * room = prefix + base32lower(HMAC-SHA256(secret, tenant + "\n" + appointmentId))[0:26].
 * The newline cannot occur in either input, so ("a", "b\nc") and ("a\nb", "c") never meet.
 */
export function roomName (secret: string, prefix: string, tenant: string, appointmentId: string): string {
  // The schemas already refuse newlines; this keeps the separator unambiguous whoever calls us.
  if (tenant.includes('\n') || appointmentId.includes('\n')) throw new RangeError('room name inputs must not contain a newline')
  const mac = createHmac('sha256', secret).update(`${tenant}\n${appointmentId}`, 'utf8').digest()
  return prefix + base32nopad.encode(mac).slice(0, ROOM_HASH_CHARS).toLowerCase()
}
