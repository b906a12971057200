/** Field authorization walks, prints and hashes a document once per (document, caller's access), not per request. */
import { createHash } from 'node:crypto';
import { buildSchema, parse, print } from 'graphql';
import { readAccessPolicy } from '@trellis/kit/internal/auth';
import * as restrictModule from '../../../../gateway/auth/restrict';
import { accessKeyOf, RestrictionCache } from '../../../../gateway/auth/restrictionCache';

const sdl = /* GraphQL */ `
  directive @authenticated on FIELD_DEFINITION
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION
  type Query {
    me: User @authenticated
    user(id: ID!): User
  }
  type User {
    id: ID!
    email: String @requiresScopes(scopes: [["users:email"]])
  }
`;
const schema = buildSchema(sdl);
const policy = readAccessPolicy(sdl);
const document = parse('{ me { id } user(id: "u1") { id email } }');

describe('RestrictionCache', () => {
  let walks: jest.SpyInstance;
  beforeEach(() => (walks = jest.spyOn(restrictModule, 'restrictDocument')));
  afterEach(() => walks.mockRestore());

  it('walks a document once per access: callers with the same scopes share the restricted document and its hash', () => {
    const cache = new RestrictionCache();
    const first = cache.restrict(schema, policy, document, { scopes: [] })!;
    expect(print(first.document)).toBe(print(parse('{ me { id } user(id: "u1") { id } }')));
    expect(first.removals.map((removal) => removal.path)).toEqual([['user', 'email']]);
    expect(first.queryHash).toBe(createHash('sha256').update(print(first.document)).digest('hex'));
    expect(cache.restrict(schema, policy, document, { scopes: [] })).toBe(first);
    expect(walks).toHaveBeenCalledTimes(1);

    const anonymous = cache.restrict(schema, policy, document, null)!;
    expect(anonymous.removals.map((removal) => removal.path)).toEqual([['me'], ['user', 'email']]);
    expect(anonymous.queryHash).not.toBe(first.queryHash);
    expect(walks).toHaveBeenCalledTimes(2);
  });

  it('keeps "may see everything" too, and tells scope sets apart whatever their order or repeats', () => {
    const cache = new RestrictionCache();
    expect(cache.restrict(schema, policy, document, { scopes: ['users:email', 'other'] })).toBeUndefined();
    expect(cache.restrict(schema, policy, document, { scopes: ['other', 'users:email', 'other'] })).toBeUndefined();
    expect(walks).toHaveBeenCalledTimes(1);
    expect(cache.restrict(schema, policy, document, { scopes: ['other'] })).toBeDefined();
    expect(walks).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(2);
  });

  it('tells documents apart by identity, even with the same text', () => {
    const cache = new RestrictionCache();
    const again = parse(print(document));
    const one = cache.restrict(schema, policy, document, null);
    const other = cache.restrict(schema, policy, again, null);
    expect(other).not.toBe(one);
    expect(other!.queryHash).toBe(one!.queryHash);
    expect(walks).toHaveBeenCalledTimes(2);
  });

  it('forgets everything on a new schema or a new access policy', () => {
    const cache = new RestrictionCache();
    const first = cache.restrict(schema, policy, document, null);
    const otherPolicy = readAccessPolicy(sdl.replace('me: User @authenticated', 'me: User'));
    const underOther = cache.restrict(schema, otherPolicy, document, null)!;
    expect(underOther.removals.map((removal) => removal.path)).toEqual([['user', 'email']]);
    expect(cache.size).toBe(1);
    const underNewSchema = cache.restrict(buildSchema(sdl), otherPolicy, document, null);
    expect(underNewSchema).not.toBe(underOther);
    expect(cache.restrict(schema, policy, document, null)).not.toBe(first);
    expect(walks).toHaveBeenCalledTimes(4);
  });

  it('does nothing at all when the supergraph protects nothing', () => {
    const cache = new RestrictionCache();
    expect(cache.restrict(schema, new Map(), document, null)).toBeUndefined();
    expect(walks).not.toHaveBeenCalled();
    expect(cache.size).toBe(0);
  });

  it('holds at most `max` entries, dropping the least recently used', () => {
    const cache = new RestrictionCache(2);
    const a = cache.restrict(schema, policy, document, null);
    cache.restrict(schema, policy, document, { scopes: [] });
    expect(cache.restrict(schema, policy, document, null)).toBe(a);
    cache.restrict(schema, policy, document, { scopes: ['x'] });
    expect(cache.size).toBe(2);
    expect(cache.restrict(schema, policy, document, null)).toBe(a);
    expect(walks).toHaveBeenCalledTimes(3);
    cache.restrict(schema, policy, document, { scopes: [] });
    expect(walks).toHaveBeenCalledTimes(4);
  });
});

describe('accessKeyOf', () => {
  it('is the signed-in flag and the sorted set of scopes', () => {
    expect(accessKeyOf(null)).toBe('-');
    expect(accessKeyOf({ scopes: [] })).toBe('+');
    expect(accessKeyOf({ scopes: ['b', 'a', 'b'] })).toBe('+a b');
  });

  it('refuses, and keeps nothing for, a document whose restriction would inline more fields than its bound', () => {
    const cache = new RestrictionCache(10, 3);
    const fragments = parse('{ user(id: "u1") { ...U ...U } } fragment U on User { id email }');
    expect(() => cache.restrict(schema, policy, fragments, { scopes: [] })).toThrow(expect.objectContaining({ code: 'QUERY_TOO_COSTLY', measured: 5, limit: 3 }));
    expect(cache.size).toBe(0);
    expect(new RestrictionCache(10, 5).restrict(schema, policy, fragments, { scopes: [] })?.removals).toHaveLength(2);
  });
});
