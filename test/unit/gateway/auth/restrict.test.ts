/**
 * Field authorization with Apollo Router's semantics, against a hand-written supergraph: each
 * operation is restricted, the restricted document is executed (as the subgraphs would answer
 * it), and the nulls and FORBIDDEN errors are put back, so the tests see what a client sees.
 */
import { buildSchema, execute, parse, print, validate, type ExecutionResult } from 'graphql';
import { readAccessPolicy } from '@trellis/kit/internal/auth';
import { PLACEHOLDER, restrictDocument, TYPE_KEY } from '../../../../gateway/auth/restrict';
import { applyRemovals } from '../../../../gateway/auth/response';

const sdl = /* GraphQL */ `
  directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

  scalar TaxId @authenticated

  enum Tier @requiresScopes(scopes: [["billing:read"]]) {
    FREE
    PRO
  }

  interface Node {
    id: ID!
  }

  type Query {
    me: User @authenticated
    user(id: ID!): User
    users: [User!]!
    friends: [User!]
    search: [SearchResult!]!
    node(id: ID!): Node
    grid: [[User]]
  }

  type User implements Node {
    id: ID!
    name: String!
    email: String! @requiresScopes(scopes: [["users:email"]])
    nickname: String @requiresScopes(scopes: [["users:email", "users:nick"], ["admin"]])
    taxId: TaxId
    tier: Tier
  }

  type Invoice implements Node @requiresScopes(scopes: [["billing:read"]]) {
    id: ID!
    amount: Float
  }

  union SearchResult = User | Invoice
`;

const schema = buildSchema(sdl);
const policy = readAccessPolicy(sdl);
const ada = { __typename: 'User', id: 'u1', name: 'Ada', email: 'ada@example.com', nickname: 'ada', taxId: 'T-1', tier: 'PRO' };
const bob = { __typename: 'User', id: 'u2', name: 'Bob', email: 'bob@example.com', nickname: 'bob', taxId: 'T-2', tier: 'FREE' };
const invoice = { __typename: 'Invoice', id: 'i1', amount: 12 };
const root = {
  me: ada,
  user: () => ada,
  users: [ada, bob],
  friends: [bob],
  search: [ada, invoice],
  node: ({ id }: { id: string }) => (id === 'i1' ? invoice : ada),
  grid: [[ada], [bob]],
};

/** What a caller gets: the restricted operation executed, then the removals applied. */
function run(query: string, user: { scopes: string[] } | null): ExecutionResult {
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  const restricted = restrictDocument(schema, document, policy, user);
  expect(validate(schema, restricted.document)).toEqual([]);
  const result = execute({ schema, document: restricted.document, rootValue: root }) as ExecutionResult;
  expect(result.errors).toBeUndefined();
  const applied = applyRemovals(JSON.parse(JSON.stringify(result.data)), restricted.removals);
  return { data: applied.data, ...(applied.errors.length > 0 ? { errors: applied.errors as never } : {}) };
}

const paths = (result: ExecutionResult) => (result.errors ?? []).map((error) => error.path);
const anonymous = null;
const signedIn = { scopes: [] };

describe('field authorization', () => {
  it('a field removed inside a named fragment is reported at its response path, and its null stops at the nearest nullable parent', () => {
    const direct = run('{ me { id name email } }', signedIn);
    const viaFragment = run('{ me { ...U } } fragment U on User { id name email }', signedIn);
    expect(direct).toEqual({ data: { me: null }, errors: [expect.objectContaining({ path: ['me', 'email'], extensions: { code: 'FORBIDDEN' } })] });
    expect(viaFragment).toEqual(direct);
  });

  it('follows nested fragments, inline fragments and aliases', () => {
    const result = run('{ user(id: "u1") { ...Outer } } fragment Outer on User { name ...Inner } fragment Inner on User { ... on User { mail: email } }', signedIn);
    expect(paths(result)).toEqual([['user', 'mail']]);
    expect(result.data).toEqual({ user: null });
  });

  it('the same fragment spread in two places gives one error at each place', () => {
    const result = run('{ user(id: "u1") { ...N } friends { ...N } } fragment N on User { name nickname }', signedIn);
    expect(paths(result)).toEqual([['user', 'nickname'], ['friends', '@', 'nickname']]);
    expect(result.data).toEqual({ user: { name: 'Ada', nickname: null }, friends: [{ name: 'Bob', nickname: null }] });
  });

  it('lets a caller with the scopes through, and nothing is removed', () => {
    expect(run('{ me { ...U } } fragment U on User { email }', { scopes: ['users:email'] })).toEqual({ data: { me: { email: 'ada@example.com' } } });
  });

  it('requiresScopes is an OR of AND-groups', () => {
    const q = '{ user(id: "u1") { nickname } }';
    expect(run(q, { scopes: ['users:email'] }).data).toEqual({ user: { nickname: null } });
    expect(run(q, { scopes: ['users:email', 'users:nick'] }).data).toEqual({ user: { nickname: 'ada' } });
    expect(run(q, { scopes: ['admin'] }).data).toEqual({ user: { nickname: 'ada' } });
  });

  it('reads the directives on a scalar and on an enum returned by a field', () => {
    const result = run('{ user(id: "u1") { name taxId tier } }', anonymous);
    expect(result.data).toEqual({ user: { name: 'Ada', taxId: null, tier: null } });
    expect(paths(result)).toEqual([['user', 'taxId'], ['user', 'tier']]);
    expect(run('{ user(id: "u1") { taxId tier } }', { scopes: ['billing:read'] }).data).toEqual({ user: { taxId: 'T-1', tier: 'PRO' } });
  });

  it('a protected union member loses its fields only on objects of that type', () => {
    const result = run('{ search { ... on User { name } ... on Invoice { amount } } }', signedIn);
    expect(result.data).toEqual({ search: [{ name: 'Ada' }, { amount: null }] });
    expect(paths(result)).toEqual([['search', '@', 'amount']]);
    expect(run('{ search { ... on Invoice { amount } } }', { scopes: ['billing:read'] }).data).toEqual({ search: [{}, { amount: 12 }] });
  });

  it('a field read through an interface carries the requirements of every implementation', () => {
    const throughInterface = run('{ node(id: "u1") { id } }', signedIn);
    expect(throughInterface.data).toEqual({ node: null });
    expect(paths(throughInterface)).toEqual([['node', 'id']]);
    expect(run('{ node(id: "u1") { ... on User { id } } }', signedIn).data).toEqual({ node: { id: 'u1' } });
    expect(run('{ node(id: "i1") { id } }', { scopes: ['billing:read'] }).data).toEqual({ node: { id: 'i1' } });
  });

  it('a non-null field in a list of non-null items nulls the nearest nullable ancestor; nested lists are walked', () => {
    expect(run('{ users { name email } }', signedIn).data).toBeNull();
    expect(run('{ friends { name email } }', signedIn).data).toEqual({ friends: null });
    const grid = run('{ grid { email } }', signedIn);
    expect(grid.data).toEqual({ grid: [[null], [null]] });
    expect(paths(grid)).toEqual([['grid', '@', '@', 'email']]);
  });

  it('inlines only the fragments that hold a removal; the others stay spread, and answer the same', () => {
    const query = '{ me { ...Plain ...Private } friends { ...Plain } } fragment Plain on User { id name } fragment Private on User { email ...Plain }';
    const restricted = restrictDocument(schema, parse(query), policy, signedIn);
    expect(print(restricted.document)).toBe(
      print(parse('{ me { ...Plain ... on User { ...Plain } } friends { ...Plain } } fragment Plain on User { id name }')),
    );
    expect(run(query, signedIn)).toEqual({
      data: { me: null, friends: [{ id: 'u2', name: 'Bob' }] },
      errors: [expect.objectContaining({ path: ['me', 'email'] })],
    });
    expect(run(query, { scopes: ['users:email'] })).toEqual({ data: { me: { id: 'u1', name: 'Ada', email: 'ada@example.com' }, friends: [{ id: 'u2', name: 'Bob' }] } });
  });

  it('a fragment fan-out costs linear time: left as sent when nothing is removed, refused when inlining it would pass maxFields', () => {
    const fanOut = (levels: number, leaf: string) =>
      `{ users { ...F0 } } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on User { ${i + 1 < levels ? `...F${i + 1} ... on User { ...F${i + 1} }` : leaf} }`).join(' ')}`;
    const harmless = parse(fanOut(300, 'name'));
    expect(restrictDocument(schema, harmless, policy, signedIn, 5000).document).toBe(harmless);
    expect(() => restrictDocument(schema, parse(fanOut(300, 'email')), policy, signedIn, 5000)).toThrow(
      expect.objectContaining({ code: 'QUERY_TOO_COSTLY', measured: 1 + 2 ** 299, limit: 5000 }),
    );
    // Small enough to inline: each of the 2^3 paths reports its own removal.
    expect(restrictDocument(schema, parse(fanOut(4, 'email')), policy, signedIn, 9).removals).toHaveLength(8);
    expect(() => restrictDocument(schema, parse(fanOut(4, 'email')), policy, signedIn, 8)).toThrow('9 fields once fragments are inlined exceed the cost limit of 8');
  });

  it('keeps the document as sent when nothing is removed (plans stay cached)', () => {
    const document = parse('{ me { ...U } } fragment U on User { name }');
    expect(restrictDocument(schema, document, policy, signedIn).document).toBe(document);
  });
});

describe('field authorization: more shapes', () => {
  const guardedSdl = /* GraphQL */ `
    directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM | UNION
    directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM | UNION
    interface Secret @authenticated { code: String }
    type Vault implements Secret { code: String label: String }
    interface Thing { id: ID }
    type Box implements Thing { id: ID hidden: String @authenticated }
    type Note { text: String secretText: String @authenticated }
    union Private @authenticated = Note
    type Query { vault: Vault secret: Secret private: [Private] open: String note: Note thing: Thing }
    type Mutation { wipe: Boolean @requiresScopes(scopes: [["admin"]]) ping: Boolean }
  `;
  const guardedSchema = buildSchema(guardedSdl);
  const guardedPolicy = readAccessPolicy(guardedSdl);
  const guardedRoot = {
    vault: { code: 'c', label: 'l' },
    secret: { __typename: 'Vault', code: 'c' },
    private: [{ __typename: 'Note', text: 't' }],
    open: 'o',
    note: { text: 'n', secretText: 's' },
    thing: { __typename: 'Box', id: 'b', hidden: 'h' },
    wipe: true,
    ping: true,
  };
  const runGuarded = (query: string, user: { scopes: string[] } | null) => {
    const restricted = restrictDocument(guardedSchema, parse(query), guardedPolicy, user);
    expect(validate(guardedSchema, restricted.document)).toEqual([]);
    const result = execute({ schema: guardedSchema, document: restricted.document, rootValue: guardedRoot }) as ExecutionResult;
    expect(result.errors).toBeUndefined();
    const applied = applyRemovals(JSON.parse(JSON.stringify(result.data)), restricted.removals);
    return { data: applied.data, errors: applied.errors, document: restricted.document };
  };

  it('@authenticated on an interface guards every field that returns it (composition refuses it on interface fields)', () => {
    const anonymous = runGuarded('{ secret { code } vault { code label } open }', null);
    expect(anonymous.data).toEqual({ secret: null, vault: { code: 'c', label: 'l' }, open: 'o' });
    expect(anonymous.errors.map((error) => error.path)).toEqual([['secret']]);
    expect(runGuarded('{ secret { code } }', { scopes: [] }).data).toEqual({ secret: { code: 'c' } });
  });

  it('@authenticated on a union guards the field that returns it', () => {
    const anonymous = runGuarded('{ private { ... on Note { text } } note { text } }', null);
    expect(anonymous.data).toEqual({ private: null, note: { text: 'n' } });
    expect(anonymous.errors).toEqual([{ message: 'Unauthorized field: private requires an authenticated caller', path: ['private'], extensions: { code: 'FORBIDDEN' } }]);
  });

  it('reports an aliased field at its alias, and the same field under two aliases twice', () => {
    const result = runGuarded('{ n: note { s1: secretText s2: secretText text } }', null);
    expect(result.data).toEqual({ n: { s1: null, s2: null, text: 'n' } });
    expect(result.errors.map((error) => error.message)).toEqual(['Unauthorized field: n.s1 requires an authenticated caller', 'Unauthorized field: n.s2 requires an authenticated caller']);
    expect(result.errors.map((error) => error.path)).toEqual([['n', 's1'], ['n', 's2']]);
  });

  it('a selection set emptied by removals keeps a placeholder typename, gone from the response', () => {
    const result = runGuarded('{ note { secretText } }', null);
    expect(print(result.document)).toContain(`${PLACEHOLDER}: __typename`);
    expect(result.data).toEqual({ note: { secretText: null } });
  });

  it('asks for the typename only where a removal depends on the object’s type', () => {
    const narrowed = runGuarded('{ thing { id ... on Box { hidden } } }', null);
    expect(print(narrowed.document)).toContain(`${TYPE_KEY}: __typename`);
    expect(narrowed.data).toEqual({ thing: { id: 'b', hidden: null } });
    expect(print(runGuarded('{ note { text secretText } }', null).document)).not.toContain(TYPE_KEY);
  });

  it('guards mutation fields by scope, leaving the others to run', () => {
    const result = runGuarded('mutation { wipe ping }', { scopes: ['reader'] });
    expect(result.data).toEqual({ wipe: null, ping: true });
    expect(result.errors[0].message).toBe('Unauthorized field: wipe requires scope admin');
    expect(runGuarded('mutation { wipe }', { scopes: ['admin'] }).data).toEqual({ wipe: true });
  });

  it('an empty policy leaves every document as sent', () => {
    const document = parse('{ vault { code } }');
    expect(restrictDocument(guardedSchema, document, new Map(), null)).toEqual({ document, removals: [] });
  });
});
