// Name patterns shared by config, request schemas and the signer's last check, so that anything
// the front door accepts is something the signer will sign (and Jitsi will match).

/**
 * A Jitsi tenant becomes a DNS label (`muc.<tenant>.<domain>` before mod_muc_domain_mapper), so it
 * is one: lowercase letters, digits and inner hyphens, 1-63 characters. Narrower than the contract's
 * `^[a-z0-9-]{1,63}$`, which let "-clinic" in only to fail at signing.
 */
export const TENANT_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/u
/** The XMPP domain used as `sub` for tenant-less visits (docker: meet.jitsi). */
export const XMPP_DOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/u
/** Room names start with a letter or digit (a prefix, when set, comes first). */
export const ROOM_PREFIX_PATTERN = /^(?:[a-z0-9][a-z0-9-]{0,15})?$/u
/** What the signer accepts as a room claim: concrete, lowercase ASCII, never "*". */
export const CONCRETE_ROOM_PATTERN = /^[a-z0-9][a-z0-9-]{0,127}$/u
