/**
 * A subgraph reached directly, on its own port, is limited like the gateway, by the kit alone (the
 * example subgraphs have no limit code of their own): the catalogue of hostile inputs
 * (test/support/hostileInputs.ts) and the attacks only a subgraph takes (`_entities` too deep or
 * with too many representations) are each refused fast with their code, over HTTP and graphql-ws,
 * while a normal query, a gateway-shaped `_entities` fetch of the most representations the
 * gateway's limits let it send, and the federation `_service` query are still answered.
 */
import { loadConfig } from '@trellis/kit';
import type { Subgraph } from '@trellis/kit';
import { usersSubgraph, typeDefs as usersSdl } from '../../../subgraphs/users';
import { ordersSubgraph, typeDefs as ordersSdl } from '../../../subgraphs/orders';
import { catalogSubgraph, typeDefs as catalogSdl } from '../../../subgraphs/catalog';
import { startSubgraph } from '../../support/inProcess';
import { plannerFor } from '../../support/planner/plan';
import { overHttp, overWebSocket, type Send } from '../../support/hostileTransports';
import { DEFAULT_LIMITS, hostileInputs, isBatch, normalQuery, type HostileInput, type HostileOperation, type HostileTarget } from '../../support/hostileInputs';

/** Per request, attack or normal query alike: far below what running the attack costs (see docs/subgraph-authors.md, "A subgraph with the kit"). */
const FAST_MS = 2000;

const config = loadConfig({});
const USERS: HostileTarget = { listField: 'users', type: 'User', leaf: 'name' };
/** The subgraph's own limits where they differ from the gateway's (tokens, message size). */
const SUBGRAPH_LIMITS = { ...DEFAULT_LIMITS, maxTokens: config.subgraph.limits.maxTokens, maxBodyBytes: config.subgraph.limits.maxBodyBytes };
/**
 * The kit checks the limits before it validates (validating the deepest fragment fan-out the
 * subgraph's token limit lets through costs hundreds of milliseconds), so an input that is both
 * invalid and over a limit is refused here by the limit it breaks, where the gateway, which
 * validates first, says GRAPHQL_VALIDATION_FAILED.
 */
const LIMIT_BEFORE_VALIDATION: Record<string, string> = { 'repeated fields': 'QUERY_TOO_COSTLY', 'repeated __typename': 'QUERY_TOO_COSTLY', 'directive flood': 'TOO_MANY_DIRECTIVES' };

const transports: Array<[string, Send]> = [
  ['HTTP', overHttp],
  ['graphql-ws', overWebSocket],
];

/** `count` representations of `type`, ids `${prefix}0`…: what a gateway sends for a list of that many entities. */
const representations = (type: string, count: number, prefix: string) => Array.from({ length: count }, (_, i) => ({ __typename: type, id: `${prefix}${i}` }));

/** The `_entities` fetch Apollo's planner sends the catalog for products reached through users' orders. */
function catalogEntitiesFetch(): string {
  const planner = plannerFor([
    { name: 'users', typeDefs: usersSdl },
    { name: 'orders', typeDefs: ordersSdl },
    { name: 'catalog', typeDefs: catalogSdl },
  ]);
  const { plan } = planner.plan('{ users { orders { items { product { name price inStock } } } } }');
  const fetches: Array<{ serviceName: string; operation: string }> = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const candidate = node as { kind?: string; serviceName?: string; operation?: string };
    if (candidate.kind === 'Fetch') fetches.push(candidate as { serviceName: string; operation: string });
    for (const value of Object.values(node)) if (value && typeof value === 'object') walk(value);
  };
  walk(plan.node);
  const fetch = fetches.find(({ serviceName, operation }) => serviceName === 'catalog' && operation.includes('_entities'));
  if (!fetch) throw new Error('no catalog _entities fetch in the plan');
  return fetch.operation;
}

/** `{ _entities(User u1) { ... on User { orders { user { orders { user … } } } } } }`: `levels` of orders' own cycle. */
const deepEntities = (levels: number) =>
  `{ _entities(representations: [{ __typename: "User", id: "u1" }]) { ... on User { ${'orders { user { '.repeat(levels)}id${' } }'.repeat(levels)} } } }`;

describe("a subgraph's own port is limited like the gateway", () => {
  let users: Subgraph;
  let orders: Subgraph;
  let catalog: Subgraph;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    [users, orders, catalog] = await Promise.all([usersSubgraph, ordersSubgraph, catalogSubgraph].map((factory) => startSubgraph(factory, {})));
    for (const [, send] of transports) expect((await send(users.url, normalQuery(USERS))).errors).toBeUndefined();
  });

  afterAll(async () => {
    for (const subgraph of [users, orders, catalog]) await subgraph?.stop();
    console.log(`subgraph refusal times (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([name, ms]) => [name, Math.round(ms)])))}`);
  });

  const attacks = (): Array<{ name: string; url: () => string; input: HostileInput }> => [
    ...hostileInputs(USERS, SUBGRAPH_LIMITS)
      .filter((input) => !isBatch(input))
      .map((input) => ({ name: input.name, url: () => users.url, input: { ...input, code: LIMIT_BEFORE_VALIDATION[input.name] ?? input.code } })),
    {
      name: '_entities nesting orders { user { … } } past the depth limit',
      url: () => orders.url,
      input: { name: 'deep _entities', request: { query: deepEntities(config.limits.maxDepth) }, code: 'QUERY_TOO_DEEP', httpStatus: 400 },
    },
    {
      name: '_entities with one representation over the cap',
      url: () => users.url,
      input: {
        name: 'huge _entities',
        request: {
          query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { name } } }',
          variables: { r: representations('User', config.subgraph.limits.maxRepresentations + 1, 'u') },
        },
        code: 'TOO_MANY_REPRESENTATIONS',
        httpStatus: 400,
      },
    },
    {
      name: '_entities with representations written inline, over the cap',
      url: () => users.url,
      input: {
        name: 'huge inline _entities',
        request: { query: `{ _entities(representations: [${'{ __typename: "User", id: "u1" } '.repeat(config.subgraph.limits.maxRepresentations + 1)}]) { ... on User { name } } }` },
        // Written inline, the list is tokens: the parser's limit stops it first.
        code: 'TOO_MANY_TOKENS',
        httpStatus: 400,
      },
    },
  ];

  const cases = transports.flatMap(([transport, send]) => attacks().map((attack) => ({ transport, send, ...attack })));

  it.each(cases)('$transport: $name is refused fast with its code, and a normal query alongside is answered', async ({ transport, send, url, input }) => {
    const [refused, normal] = await Promise.all([send(url(), input.request as HostileOperation), send(users.url, normalQuery(USERS))]);
    timings[`${transport} ${input.name}`] = refused.ms;
    if (transport === 'graphql-ws' && input.webSocketClose) {
      expect(refused.closeCode).toBe(input.webSocketClose);
    } else {
      expect(refused.closeCode).toBeUndefined();
      expect(refused.data ?? undefined).toBeUndefined();
      expect(refused.errors?.[0]?.extensions?.code).toBe(input.code);
      if (transport === 'HTTP') expect(refused.status).toBe(input.httpStatus);
    }
    expect(normal.errors).toBeUndefined();
    expect((normal.data as { users: unknown[] }).users).toEqual(expect.arrayContaining([{ name: 'Ada Lovelace' }]));
    expect(refused.ms).toBeLessThan(FAST_MS);
    expect(normal.ms).toBeLessThan(FAST_MS);
  });

  it('graphql-ws: a frame past the payload limit is closed with 1009 and writes nothing to stderr', async () => {
    // See the gateway's twin in test/integration/gateway/hostileInputs.test.ts: the kit's own code
    // (quietClientProtocolErrors) keeps graphql-ws from logging it, so a team's subgraph has it too.
    const logged = jest.spyOn(console, 'error');
    try {
      for (const input of hostileInputs(USERS, SUBGRAPH_LIMITS).filter((candidate) => candidate.webSocketClose === 1009)) {
        expect((await overWebSocket(users.url, input.request as HostileOperation)).closeCode).toBe(1009);
      }
      expect(logged.mock.calls.map(([message]) => String(message))).not.toContainEqual(expect.stringContaining('Internal error emitted on a WebSocket socket'));
    } finally {
      logged.mockRestore();
    }
  });

  it('HTTP: a batch (JSON array body) is refused; a subgraph takes one operation per request', async () => {
    const response = await fetch(users.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([normalQuery(USERS), normalQuery(USERS)]) });
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain('Ada Lovelace');
  });

  describe('what the gateway sends is still answered', () => {
    /**
     * With unit weights each entity the gateway fetches costs it at least 2 (the field returning it
     * and one field of this subgraph), so MAX_COST / 2 is the most representations a query within
     * the gateway's cost limit sends in one fetch.
     */
    const mostTheGatewaySends = Math.floor(config.limits.maxCost / 2);

    it.each(transports)("%s: the planner's own _entities fetch with MAX_COST / 2 representations", async (_transport, send) => {
      const products = representations('Product', mostTheGatewaySends, 'p');
      // The example's products are p1…p5: a few of them found, the rest null, every one resolved.
      const answer = await send(catalog.url, { query: catalogEntitiesFetch(), variables: { representations: products } });
      expect(answer.errors).toBeUndefined();
      const entities = (answer.data as { _entities: Array<{ name: string; inStock: number } | null> })._entities;
      expect(entities).toHaveLength(mostTheGatewaySends);
      expect(entities[1]).toEqual(expect.objectContaining({ name: 'Trellis Mug', inStock: expect.any(Number) }));
      expect(entities[0]).toBeNull();
    });

    it.each(transports)('%s: the _service query the gateway composes from, and _entities at exactly the cap', async (_transport, send) => {
      const sdl = await send(users.url, { query: 'query __ApolloGetServiceDefinition__ { _service { sdl } }' });
      expect(sdl.errors).toBeUndefined();
      expect((sdl.data as { _service: { sdl: string } })._service.sdl).toContain('type User');
      const atCap = await send(users.url, {
        query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { name } } }',
        variables: { r: representations('User', config.subgraph.limits.maxRepresentations, 'u') },
      });
      expect(atCap.errors).toBeUndefined();
      expect((atCap.data as { _entities: unknown[] })._entities).toHaveLength(config.subgraph.limits.maxRepresentations);
    });
  });
});
