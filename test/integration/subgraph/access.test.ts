/**
 * The kit enforces `@authenticated` / `@requiresScopes` inside every subgraph, so a subgraph reached
 * directly (not through the gateway), over HTTP, WebSocket or `_entities`, refuses what the
 * gateway would: protected fields come back null with FORBIDDEN, and only a token with the scope
 * gets them.
 */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { usersSubgraph } from '../../../subgraphs/users';
import { paymentsSubgraph } from '../../../subgraphs/payments';
import { FEDERATION_LINK } from '../../../subgraphs/federation';
import { startSubgraph } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { postGraphQL } from '../../support/graphql';

/** Directives on a type, a scalar and an interface, reached only through `_entities` and an interface field. */
const vaultSubgraph: SubgraphFactory = () => ({
  name: 'vault',
  typeDefs: /* GraphQL */ `
    ${FEDERATION_LINK}
    scalar Pin @authenticated
    interface Locked { id: ID! }
    type Query { lockers: [Locked!]! }
    type Secret implements Locked @key(fields: "id") @requiresScopes(scopes: [["vault:open"]]) { id: ID! body: String }
    type Box implements Locked @key(fields: "id") { id: ID! pin: Pin }
  `,
  resolvers: {
    Query: { lockers: () => [{ __typename: 'Box', id: 'b1', pin: '1234' }, { __typename: 'Secret', id: 's1', body: 'the plans' }] },
    Secret: { __resolveReference: ({ id }: { id: string }) => ({ id, body: 'the plans' }) },
    Box: { __resolveReference: ({ id }: { id: string }) => ({ id, pin: '1234' }) },
  },
});

describe('the kit enforces field authorization inside every subgraph', () => {
  let identity: TestIdentity;
  let users: Subgraph;
  let payments: Subgraph;
  let vault: Subgraph;

  beforeAll(async () => {
    identity = await startTestIdentity();
    [users, payments, vault] = await Promise.all([usersSubgraph, paymentsSubgraph, vaultSubgraph].map((factory) => startSubgraph(factory, identity.env)));
  });

  afterAll(async () => {
    for (const subgraph of [users, payments, vault]) await subgraph?.stop();
    await identity?.stop();
  });

  const entities = '{ _entities(representations: [{ __typename: "Order", id: "o1" }]) { ... on Order { payment { state amount } } } }';

  it('payments over _entities with no token: the payment is withheld with FORBIDDEN', async () => {
    const { status, body } = await postGraphQL(payments.url, entities);
    expect(status).toBe(200);
    expect(body.data).toEqual({ _entities: [{ payment: null }] });
    expect(body.errors).toEqual([expect.objectContaining({ path: ['_entities', 0, 'payment'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    expect(JSON.stringify(body)).not.toContain('29.99');
  });

  it('payments over _entities with a token lacking payments:read is refused too; with it, answered', async () => {
    expect((await postGraphQL(payments.url, entities, { headers: await identity.bearer('u1', ['users:email']) })).body.data).toEqual({ _entities: [{ payment: null }] });
    const reader = await postGraphQL(payments.url, entities, { headers: await identity.bearer('u1', ['payments:read']) });
    expect(reader.body).toEqual({ data: { _entities: [{ payment: { state: 'CAPTURED', amount: 29.99 } }] } });
  });

  it('users: nobody reads email without users:email, and me needs a caller', async () => {
    const anonymous = await postGraphQL(users.url, '{ user(id: "u1") { name email } me { id } }');
    expect(anonymous.body.data).toEqual({ user: null, me: null });
    expect(anonymous.body.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([
      [['user', 'email'], 'FORBIDDEN'],
      [['me'], 'FORBIDDEN'],
    ]);
    expect(JSON.stringify(anonymous.body)).not.toContain('@example.com');
    // With the scope, a user reads their own email (another user's is theirs: see ownership.test.ts).
    const reader = await postGraphQL(users.url, '{ user(id: "u1") { email } }', { headers: await identity.bearer('u1', ['users:email']) });
    expect(reader.body).toEqual({ data: { user: { email: expect.stringContaining('@') } } });
  });

  it('the same over the subgraph WebSocket', async () => {
    const client = createClient({ url: users.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const results = [];
      for await (const result of client.iterate({ query: '{ users { email } }' })) results.push(result);
      expect(results).toEqual([{ data: null, errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })] }]);
    } finally {
      await client.dispose();
    }
  });

  it('directives on a type reached by _entities, on a scalar, and on implementations behind an interface', async () => {
    const secret = await postGraphQL(vault.url, '{ _entities(representations: [{ __typename: "Secret", id: "s1" }]) { ... on Secret { body } } }', { headers: await identity.bearer('u1') });
    expect(secret.body.data).toEqual({ _entities: [{ body: null }] });
    expect(secret.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const pin = await postGraphQL(vault.url, '{ _entities(representations: [{ __typename: "Box", id: "b1" }]) { ... on Box { id pin } } }');
    expect(pin.body.data).toEqual({ _entities: [{ id: 'b1', pin: null }] });

    const lockers = await postGraphQL(vault.url, '{ lockers { id } }', { headers: await identity.bearer('u1') });
    expect(lockers.body.data).toBeNull();
    const opener = await postGraphQL(vault.url, '{ lockers { id ... on Secret { body } ... on Box { pin } } }', { headers: await identity.bearer('u1', ['vault:open']) });
    expect(opener.body).toEqual({ data: { lockers: [{ id: 'b1', pin: '1234' }, { id: 's1', body: 'the plans' }] } });
  });
});
