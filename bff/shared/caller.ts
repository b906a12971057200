/**
 * Who is calling a BFF: a verified identity with the token to forward, or nobody. `cacheKey` names
 * exactly what the caller may see (user and scopes), so a personal cache entry is never shared.
 */
import { createHash } from 'node:crypto';
import type { TokenVerifier } from '@trellis/kit';

export interface Caller {
  id: string;
  scopes: string[];
  token: string;
  /** Identity and scopes: two callers with the same key see the same personal answers. */
  cacheKey: string;
}

export async function callerFromToken(token: string, verifier: TokenVerifier | undefined): Promise<Caller> {
  if (!verifier) {
    // No issuer configured: the gateway decides; we only know the token itself.
    const digest = createHash('sha256').update(token).digest('base64url');
    return { id: `token:${digest.slice(0, 16)}`, scopes: [], token, cacheKey: `token:${digest}` };
  }
  const identity = await verifier.verify(token);
  const scopes = [...identity.scopes].sort();
  return { id: identity.id, scopes, token, cacheKey: `user:${identity.id}:${createHash('sha256').update(scopes.join(' ')).digest('base64url').slice(0, 16)}` };
}
