// What an authenticated EMR client may ask for: its tenants, its roles, custom rooms (403 otherwise).
import type { Client } from '../config/clients.js'
import type { Role } from '../config/policy.js'
import { ApiError } from '../errors.js'

export function authorizeTenant (client: Client, tenant: string | undefined): void {
  // Tenant-less visits are for clients allowed everywhere ("*") or configured without tenants.
  const allowed = client.tenants === '*' ||
    (tenant === undefined ? client.tenants.size === 0 : client.tenants.has(tenant))
  if (!allowed) throw new ApiError('forbidden', { detail: 'tenant not allowed for this client' })
}

export function authorizeRoles (client: Client, roles: Iterable<Role>): void {
  for (const role of roles) {
    if (!client.roles.has(role)) throw new ApiError('forbidden', { detail: 'role not allowed for this client' })
  }
}

export function authorizeCustomRoom (client: Client): void {
  if (!client.allowCustomRooms) throw new ApiError('forbidden', { detail: 'custom rooms not allowed for this client' })
}
