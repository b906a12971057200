/**
 * The per-fragment decision of field authorization: whether anything in an operation, or in a
 * fragment, is removed for a caller. It must agree with what restricting removes, and cost linear
 * time on a fragment fan-out, whose inlined form is exponential.
 */
import { buildSchema, parse } from 'graphql';
import { readAccessPolicy } from '@trellis/kit/internal/auth';
import { removableFor } from '../../../../gateway/auth/removable';
import { restrictDocument } from '../../../../gateway/auth/restrict';

const sdl = /* GraphQL */ `
  directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM | UNION
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM | UNION

  scalar TaxId @authenticated
  interface Node { id: ID! }
  type Query {
    me: User @authenticated
    user(id: ID!): User
    users: [User!]!
    search: [SearchResult!]!
    node(id: ID!): Node
  }
  type User implements Node {
    id: ID!
    name: String!
    email: String! @requiresScopes(scopes: [["users:email"]])
    taxId: TaxId
    friends: [User!]!
  }
  type Invoice implements Node @requiresScopes(scopes: [["billing:read"]]) {
    id: ID!
    amount: Float
  }
  union SearchResult = User | Invoice
`;
const schema = buildSchema(sdl);
const policy = readAccessPolicy(sdl);

const anonymous = null;
const signedIn = { scopes: [] };
const mailer = { scopes: ['users:email'] };
const everything = { scopes: ['users:email', 'billing:read'] };

const anywhere = (query: string, subject: { scopes: string[] } | null) => removableFor(schema, parse(query), policy, subject).anywhere;
const fragment = (query: string, subject: { scopes: string[] } | null, name: string) => removableFor(schema, parse(query), policy, subject).fragment(name);

/** Each fragment spreads the next twice (once inside an inline fragment): 2^levels paths to the leaf. */
const fanOut = (levels: number, leaf: string) =>
  `{ users { ...F0 } } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on User { ${i + 1 < levels ? `...F${i + 1} ... on User { ...F${i + 1} }` : leaf} }`).join(' ')}`;

describe('removableFor', () => {
  it('finds a denied field at the root, below allowed fields, and in inline fragments with or without a type condition', () => {
    expect(anywhere('{ me { id } }', anonymous)).toBe(true);
    expect(anywhere('{ me { id } }', signedIn)).toBe(false);
    expect(anywhere('{ user(id: "u1") { friends { email } } }', signedIn)).toBe(true);
    expect(anywhere('{ user(id: "u1") { friends { email } } }', mailer)).toBe(false);
    expect(anywhere('{ user(id: "u1") { ... { email } } }', signedIn)).toBe(true);
    expect(anywhere('{ search { ... on Invoice { amount } } }', mailer)).toBe(true);
    expect(anywhere('{ search { ... on Invoice { amount } } }', everything)).toBe(false);
    expect(anywhere('{ user(id: "u1") { name taxId } }', anonymous)).toBe(true);
    expect(anywhere('{ user(id: "u1") { name } users { id } }', anonymous)).toBe(false);
  });

  it('judges a field read through an interface by every implementation, and __typename by its type', () => {
    expect(anywhere('{ node(id: "i1") { id } }', mailer)).toBe(true);
    expect(anywhere('{ node(id: "i1") { id } }', everything)).toBe(false);
    expect(anywhere('{ search { ... on Invoice { __typename } } }', mailer)).toBe(true);
    expect(anywhere('{ search { ... on User { __typename } } }', anonymous)).toBe(false);
  });

  it('decides each fragment on its type condition, through the fragments it spreads', () => {
    const query = '{ users { ...Outer ...Plain } } fragment Outer on User { name ...Inner } fragment Inner on User { friends { email } } fragment Plain on User { id name }';
    expect(fragment(query, signedIn, 'Inner')).toBe(true);
    expect(fragment(query, signedIn, 'Outer')).toBe(true);
    expect(fragment(query, signedIn, 'Plain')).toBe(false);
    expect(anywhere(query, signedIn)).toBe(true);
    // Per scope set: the same document has nothing to remove for a caller who holds the scope.
    expect(fragment(query, mailer, 'Outer')).toBe(false);
    expect(anywhere(query, mailer)).toBe(false);
    expect(fragment('{ search { ...I } } fragment I on Invoice { id }', mailer, 'I')).toBe(true);
  });

  it('counts only what an operation spreads: an unused fragment is part of no answer', () => {
    expect(anywhere('{ users { name } } fragment Unused on Query { me { id } }', anonymous)).toBe(false);
    expect(anywhere('{ users { ...U } } fragment U on User { name } fragment Unused on User { email }', signedIn)).toBe(false);
  });

  it('agrees with what restricting removes', () => {
    const queries = [
      '{ me { id } }',
      '{ users { ...U } } fragment U on User { name email }',
      '{ users { ...U } } fragment U on User { name }',
      '{ search { ... on User { email } ... on Invoice { amount } } }',
      '{ search { ... on Invoice { __typename } } }',
      '{ __schema { queryType { name } } __typename }',
      '{ node(id: "u1") { ... on User { taxId } } }',
    ];
    for (const query of queries) {
      for (const subject of [anonymous, signedIn, mailer, everything]) {
        const removed = restrictDocument(schema, parse(query), policy, subject).removals.length > 0;
        expect({ query, subject, removable: anywhere(query, subject) }).toEqual({ query, subject, removable: removed });
      }
    }
  });

  it('judges the meta fields as restricting does, on a root type that requires a caller', () => {
    const guardedSdl = 'directive @authenticated on OBJECT | FIELD_DEFINITION\n type Query @authenticated { open: String }';
    const guarded = buildSchema(guardedSdl);
    const guardedPolicy = readAccessPolicy(guardedSdl);
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Query") { name } }', '{ __typename }']) {
      expect(restrictDocument(guarded, parse(query), guardedPolicy, anonymous).removals).toHaveLength(1);
      expect(removableFor(guarded, parse(query), guardedPolicy, anonymous).anywhere).toBe(true);
      expect(removableFor(guarded, parse(query), guardedPolicy, signedIn).anywhere).toBe(false);
    }
  });

  it('stays linear on a fragment fan-out (each fragment decided once, whatever its spreads)', () => {
    // 2^400 paths: only a memoized walk ends.
    expect(anywhere(fanOut(400, 'name'), signedIn)).toBe(false);
    expect(anywhere(fanOut(400, 'email'), signedIn)).toBe(true);
    expect(fragment(fanOut(400, 'email'), mailer, 'F0')).toBe(false);
    expect(fragment(fanOut(400, 'email'), signedIn, 'F0')).toBe(true);
  });

  it('never throws on what validation refuses: unknown fields, unknown fragments, cycles', () => {
    expect(anywhere('{ nope { email } }', anonymous)).toBe(false);
    expect(anywhere('{ users { ...Missing } }', anonymous)).toBe(false);
    expect(anywhere('{ users { ...A } } fragment A on User { ...B } fragment B on User { ...A name }', anonymous)).toBe(false);
    expect(anywhere('{ users { ...A } } fragment A on User { ...B } fragment B on User { ...A email }', signedIn)).toBe(true);
    expect(anywhere('{ search { ... on SearchResult { id } } }', anonymous)).toBe(false);
    expect(anywhere('{ users { ...S } } fragment S on String { length }', anonymous)).toBe(false);
  });
});
