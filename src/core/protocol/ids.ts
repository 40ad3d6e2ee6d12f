/** "os" + 32 hex chars of SHA-256(public key): a valid PeerJS id, stable per key (identity/identity.ts). */
export const PEER_ID_PATTERN = /^os[0-9a-f]{32}$/;

/** A work unit's id: "<job id>/<index>". */
export const UNIT_ID_PATTERN = /^[A-Za-z0-9_-]{1,48}\/(0|[1-9][0-9]{0,5})$/;
