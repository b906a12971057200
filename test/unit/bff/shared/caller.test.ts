/** Who calls a BFF: the verified identity, or (with no issuer configured) only the token's digest. */
import { createHash } from 'node:crypto';
import { callerFromToken } from '../../../../bff/shared';
import type { TokenVerifier } from '@trellis/kit';

const verifierOf = (identities: Record<string, { id: string; scopes: string[] }>): TokenVerifier => ({
  verify: async (token) => {
    const identity = identities[token];
    if (!identity) throw new Error('bad token');
    return identity as never;
  },
});

describe('callerFromToken', () => {
  it('names a verified caller by id, with sorted scopes and a key of user and scopes', async () => {
    const verifier = verifierOf({ t1: { id: 'u1', scopes: ['b', 'a'] }, t2: { id: 'u1', scopes: ['a', 'b'] }, t3: { id: 'u1', scopes: ['a'] }, t4: { id: 'u2', scopes: ['a', 'b'] } });
    const caller = await callerFromToken('t1', verifier);
    const digest = createHash('sha256').update('a b').digest('base64url').slice(0, 16);
    expect(caller).toEqual({ id: 'u1', scopes: ['a', 'b'], token: 't1', cacheKey: `user:u1:${digest}` });
    // Same user and scopes in any order share answers; fewer scopes or another user do not.
    expect((await callerFromToken('t2', verifier)).cacheKey).toBe(caller.cacheKey);
    expect((await callerFromToken('t3', verifier)).cacheKey).not.toBe(caller.cacheKey);
    expect((await callerFromToken('t4', verifier)).cacheKey).toBe(`user:u2:${digest}`);
  });

  it('refuses what the verifier refuses', async () => {
    await expect(callerFromToken('forged', verifierOf({}))).rejects.toThrow('bad token');
  });

  it('without a verifier, names the caller by the digest of the token alone', async () => {
    const digest = createHash('sha256').update('opaque').digest('base64url');
    expect(await callerFromToken('opaque', undefined)).toEqual({ id: `token:${digest.slice(0, 16)}`, scopes: [], token: 'opaque', cacheKey: `token:${digest}` });
    expect((await callerFromToken('other', undefined)).cacheKey).not.toBe(`token:${digest}`);
  });
});
