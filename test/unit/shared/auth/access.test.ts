/**
 * `@authenticated` / `@requiresScopes` read from SDL into requirements by coordinate, which of them
 * guard a field (its own, its parent's, its return type's, through interfaces and unions), and the
 * decision with its reason. The gateway and the kit both decide with this module.
 */
import { buildSchema, isCompositeType, parse, type GraphQLCompositeType, type GraphQLSchema } from 'graphql';
import { deny, readAccessPolicy, requirementsOf, type AccessRequirement } from '@trellis/kit/internal/auth';

const DIRECTIVES = `
  directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM | UNION
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM | UNION
  directive @federation__authenticated on FIELD_DEFINITION | OBJECT
  directive @federation__requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT
  directive @other(scopes: [[String!]!]) on FIELD_DEFINITION | OBJECT
`;
const auth: AccessRequirement = { authenticated: true, scopes: [] };
const scoped = (...groups: string[][]): AccessRequirement => ({ authenticated: true, scopes: groups });

describe('readAccessPolicy', () => {
  const policyOf = (sdl: string) => Object.fromEntries(readAccessPolicy(DIRECTIVES + sdl));

  it('reads both directives on every kind of type and on fields, and nothing else', () => {
    expect(
      policyOf(`
        type Query { open: Int me: Viewer @authenticated }
        type Viewer @authenticated { id: ID! }
        interface Node @requiresScopes(scopes: [["n"]]) { id: ID! secret: String @authenticated }
        union Result @authenticated = Viewer
        scalar Money @requiresScopes(scopes: [["money"]])
        enum Tier @authenticated { FREE }
        input Filter { q: String }
        type Plain { id: ID! tagged: Int @other(scopes: [["x"]]) }
      `),
    ).toEqual({
      'Query.me': [auth],
      Viewer: [auth],
      Node: [scoped(['n'])],
      'Node.secret': [auth],
      Result: [auth],
      Money: [scoped(['money'])],
      Tier: [auth],
    });
  });

  it('reads type extensions of each kind, adding to what the definition said', () => {
    expect(
      policyOf(`
        type Query { a: Int }
        type T @authenticated { id: ID }
        extend type T @requiresScopes(scopes: [["t"]]) { more: Int @authenticated }
        interface I { id: ID }
        extend interface I @authenticated { x: Int @requiresScopes(scopes: [["x"]]) }
        union U = T
        extend union U @authenticated
        scalar S
        extend scalar S @authenticated
        enum E { A }
        extend enum E @authenticated
      `),
    ).toEqual({ T: [auth, scoped(['t'])], 'T.more': [auth], I: [auth], 'I.x': [scoped(['x'])], U: [auth], S: [auth], E: [auth] });
  });

  it('reads the federation-qualified names', () => {
    expect(policyOf('type Query { a: Int @federation__authenticated b: Int @federation__requiresScopes(scopes: [["b"]]) }')).toEqual({ 'Query.a': [auth], 'Query.b': [scoped(['b'])] });
  });

  it('requiresScopes is kept as OR-groups of AND-scopes; both directives on one field make one requirement', () => {
    expect(policyOf('type Query { a: Int @authenticated @requiresScopes(scopes: [["x", "y"], ["z"]]) }')).toEqual({ 'Query.a': [scoped(['x', 'y'], ['z'])] });
  });

  it('takes a document as well as a string, and gives an empty policy for a schema with neither directive', () => {
    expect(Object.fromEntries(readAccessPolicy(parse(DIRECTIVES + 'type Query { a: Int @authenticated }')))).toEqual({ 'Query.a': [auth] });
    expect(readAccessPolicy('type Query { a: Int }').size).toBe(0);
  });

  it('ignores malformed scopes arguments rather than inventing requirements', () => {
    // Not valid against the directive definition, but a policy reader must not crash or grant on it.
    const policy = Object.fromEntries(
      readAccessPolicy(`
        type Query {
          none: Int @requiresScopes
          flat: Int @requiresScopes(scopes: "x")
          mixed: Int @requiresScopes(scopes: [["a", 1], "b"])
          other: Int @requiresScopes(other: [["q"]])
        }
      `),
    );
    expect(policy).toEqual({ 'Query.mixed': [scoped(['a'], [])] });
  });
});

describe('requirementsOf', () => {
  const schema: GraphQLSchema = buildSchema(`
    ${DIRECTIVES}
    type Query { viewer: Viewer node: Node result: Result money: Money plain: Int }
    interface Node { id: ID! label: String @requiresScopes(scopes: [["label"]]) }
    type Viewer implements Node @authenticated { id: ID! label: String name: String }
    type Invoice implements Node { id: ID! label: String total: Money @requiresScopes(scopes: [["billing"]]) }
    union Result = Viewer | Invoice
    scalar Money @requiresScopes(scopes: [["money"]])
  `);
  const policy = readAccessPolicy(DIRECTIVES + `
    interface Node { id: ID! label: String @requiresScopes(scopes: [["label"]]) }
    type Viewer implements Node @authenticated { id: ID! label: String name: String }
    type Invoice implements Node { id: ID! label: String total: Money @requiresScopes(scopes: [["billing"]]) }
    scalar Money @requiresScopes(scopes: [["money"]])
  `);
  const of = (typeName: string, fieldName: string) => {
    const parent = schema.getType(typeName) as GraphQLCompositeType;
    expect(isCompositeType(parent)).toBe(true);
    const field = (parent as unknown as { getFields(): Record<string, never> }).getFields()[fieldName];
    return requirementsOf(schema, policy, parent, field);
  };

  it('a field of a guarded type carries the type’s requirement', () => {
    expect(of('Viewer', 'name')).toEqual([auth]);
  });

  it('a field returning a guarded type (or scalar) carries that type’s requirement', () => {
    expect(of('Query', 'viewer')).toEqual([auth]);
    expect(of('Query', 'money')).toEqual([scoped(['money'])]);
    expect(of('Invoice', 'total')).toEqual([scoped(['billing']), scoped(['money'])]);
  });

  it('an object’s field carries what the interface field it implements says', () => {
    expect(of('Invoice', 'label')).toEqual([scoped(['label'])]);
    expect(of('Viewer', 'label')).toEqual([auth, scoped(['label'])]);
  });

  it('a field read through an interface carries the requirements of every implementation', () => {
    expect(of('Node', 'id')).toEqual([auth]);
    expect(of('Node', 'label')).toEqual([scoped(['label']), auth]);
  });

  it('nothing guards an unguarded field, and an empty policy guards nothing', () => {
    expect(of('Query', 'plain')).toEqual([]);
    expect(of('Invoice', 'id')).toEqual([]);
    const parent = schema.getType('Viewer') as GraphQLCompositeType;
    expect(requirementsOf(schema, new Map(), parent, (parent as unknown as { getFields(): Record<string, never> }).getFields().name)).toEqual([]);
  });
});

describe('deny', () => {
  it('an authenticated requirement refuses only the anonymous caller', () => {
    expect(deny([auth], null)).toBe('requires an authenticated caller');
    expect(deny([auth], { scopes: [] })).toBeNull();
  });

  it('requiresScopes is an OR of AND-groups', () => {
    const nickname = [scoped(['users:email', 'users:nick'], ['admin'])];
    expect(deny(nickname, { scopes: ['users:email'] })).toBe('requires scope users:email and users:nick or admin');
    expect(deny(nickname, { scopes: ['users:nick'] })).toBe('requires scope users:email and users:nick or admin');
    expect(deny(nickname, { scopes: ['users:email', 'users:nick'] })).toBeNull();
    expect(deny(nickname, { scopes: ['admin'] })).toBeNull();
    expect(deny(nickname, { scopes: ['other', 'admin'] })).toBeNull();
  });

  it('every requirement must hold: the first one failed is the reason', () => {
    expect(deny([scoped(['a']), scoped(['b'])], { scopes: ['a'] })).toBe('requires scope b');
    expect(deny([scoped(['a']), scoped(['b'])], { scopes: ['b'] })).toBe('requires scope a');
    expect(deny([scoped(['a']), scoped(['b'])], { scopes: ['a', 'b'] })).toBeNull();
    expect(deny([auth, scoped(['a'])], null)).toBe('requires an authenticated caller');
  });

  it('a scope requirement without authentication still needs the scope; no requirement allows anyone', () => {
    expect(deny([{ authenticated: false, scopes: [['a']] }], null)).toBe('requires scope a');
    expect(deny([{ authenticated: false, scopes: [] }], null)).toBeNull();
    expect(deny([], null)).toBeNull();
  });
});
