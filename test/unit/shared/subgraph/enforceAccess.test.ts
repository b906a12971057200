/** A subgraph reached directly refuses what the gateway would: every guarded field checks the caller, on every path. */
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse, subscribe, type ExecutionResult } from 'graphql';
import { enforceAccess } from '@trellis/kit/internal/subgraph/enforceAccess';
import { FEDERATION_LINK } from '../../../../subgraphs/federation';

const typeDefs = parse(/* GraphQL */ `
  ${FEDERATION_LINK}
  type Query {
    me: User @authenticated
    user(id: ID!): User
    secret: String @requiresScopes(scopes: [["admin:read", "admin:audit"], ["root"]])
  }
  type Subscription {
    alerts: String @authenticated
  }
  type User @key(fields: "id") {
    id: ID!
    name: String!
    email: String! @requiresScopes(scopes: [["users:email"]])
  }
`);

const ada = { id: 'u1', name: 'Ada', email: 'ada@example.com' };

function guardedSchema() {
  const schema = buildSubgraphSchema([
    {
      typeDefs,
      resolvers: {
        Query: { me: () => ada, user: () => ada, secret: () => 'forty-two' },
        Subscription: {
          alerts: {
            subscribe: async function* () {
              yield { alerts: 'fire' };
            },
          },
        },
        User: { __resolveReference: () => ada },
      },
    },
  ]);
  return { schema, guarded: enforceAccess(schema, typeDefs) };
}

const run = (source: string, user: { id: string; scopes: string[] } | null) => {
  const { schema } = guardedSchema();
  return graphql({ schema, source, contextValue: { user } });
};
const codes = (result: ExecutionResult) =>
  (result.errors ?? []).map((error) => [error.message, error.extensions?.code]);

describe('enforceAccess', () => {
  it('guards exactly the fields the type definitions mark', () => {
    expect(guardedSchema().guarded).toBe(4);
  });

  it('refuses an anonymous caller a field that needs one, with FORBIDDEN and the reason', async () => {
    const result = await run('{ me { id } }', null);
    expect(result.data).toEqual({ me: null });
    expect(codes(result)).toEqual([['Unauthorized field: Query.me requires an authenticated caller', 'FORBIDDEN']]);
  });

  it('runs the resolver for a caller who meets the requirement', async () => {
    expect(await run('{ me { id name } }', { id: 'u1', scopes: [] })).toEqual({
      data: { me: { id: 'u1', name: 'Ada' } },
    });
  });

  it('refuses a field whose scopes the caller lacks, naming every way to satisfy it', async () => {
    const result = await run('{ secret }', { id: 'u1', scopes: ['admin:read'] });
    expect(codes(result)).toEqual([
      ['Unauthorized field: Query.secret requires scope admin:read and admin:audit or root', 'FORBIDDEN'],
    ]);
    expect((await run('{ secret }', { id: 'u1', scopes: ['root'] })).data).toEqual({ secret: 'forty-two' });
    expect((await run('{ secret }', { id: 'u1', scopes: ['admin:audit', 'admin:read'] })).data).toEqual({
      secret: 'forty-two',
    });
  });

  it('guards a field with no resolver of its own (the default resolver)', async () => {
    const result = await run('{ user(id: "u1") { name email } }', { id: 'u1', scopes: [] });
    expect(result.data).toEqual({ user: null });
    expect(codes(result)).toEqual([['Unauthorized field: User.email requires scope users:email', 'FORBIDDEN']]);
    expect((await run('{ user(id: "u1") { email } }', { id: 'u1', scopes: ['users:email'] })).data).toEqual({
      user: { email: 'ada@example.com' },
    });
  });

  it('guards a field reached through _entities, as the gateway reaches it', async () => {
    const entities = '{ _entities(representations: [{ __typename: "User", id: "u1" }]) { ... on User { email } } }';
    expect(codes(await run(entities, null))).toEqual([
      ['Unauthorized field: User.email requires an authenticated caller', 'FORBIDDEN'],
    ]);
    expect(codes(await run(entities, { id: 'u1', scopes: [] }))).toEqual([
      ['Unauthorized field: User.email requires scope users:email', 'FORBIDDEN'],
    ]);
  });

  it('refuses a subscription before it starts when the caller may not have it, and runs it when they may', async () => {
    const { schema } = guardedSchema();
    const document = parse('subscription { alerts }');
    const refused = (await subscribe({ schema, document, contextValue: { user: null } })) as ExecutionResult;
    expect(codes(refused)).toEqual([
      ['Unauthorized field: Subscription.alerts requires an authenticated caller', 'FORBIDDEN'],
    ]);
    const stream = (await subscribe({
      schema,
      document,
      contextValue: { user: { id: 'u1', scopes: [] } },
    })) as AsyncIterableIterator<ExecutionResult>;
    expect((await stream.next()).value).toEqual({ data: { alerts: 'fire' } });
  });

  it('treats a context without a user as anonymous', async () => {
    const { schema } = guardedSchema();
    const result = await graphql({ schema, source: '{ me { id } }' });
    expect(codes(result)).toEqual([['Unauthorized field: Query.me requires an authenticated caller', 'FORBIDDEN']]);
  });
});
