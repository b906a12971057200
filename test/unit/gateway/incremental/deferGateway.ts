/**
 * A real Apollo Gateway over four in-process subgraphs (LocalGraphQLDataSource) with @defer admitted,
 * the gateway's real check pipeline (limits with MAX_ALIASES 2, auth, planning) and the
 * FederatedExecutor the @defer runner goes through; the inventory's breaker can be opened.
 */
import { parse } from 'graphql';
import { ApolloGateway, LocalGraphQLDataSource, type GraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { createLogger } from '@trellis/kit';
import { loadConfig } from '@trellis/kit/internal/config';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';
import { liftEnforcedSecurityFeatures } from '../../../../gateway/auth/securityFeatures';
import { FederatedExecutor } from '../../../../gateway/subscriptions/federatedExecutor';
import { admitDefer } from '../../../../gateway/incremental';
import { runChecks } from '../../../../gateway/checkPipeline';
import { limits } from '../../../../gateway/limits';
import { auth } from '../../../../gateway/auth';
import { planning } from '../../../../gateway/planning';
import { SubgraphUnavailableError } from '../../../../gateway/datasource/errors';
import type { GatewayContext } from '../../../../gateway/context';
import type { GatewayHost } from '../../../../gateway/extension';
import type { InstanceDirectory } from '../../../../gateway/supergraph/instances';

const link =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@requiresScopes"])';
const subgraphs: Array<{ name: string; typeDefs: string; resolvers: GraphQLResolverMap<unknown> }> = [
  {
    name: 'products',
    typeDefs: `${link}
      type Query { product(id: ID!): Product products: [Product!]! search: [Result!]! }
      union Result = Product | Book
      type Book { title: String! }
      type Product @key(fields: "id") { id: ID! name: String! }`,
    resolvers: {
      Query: {
        product: (_: unknown, { id }: { id: string }) => ({ id, name: `Product ${id}` }),
        products: () => [1, 2].map((n) => ({ id: `p${n}`, name: `Product p${n}` })),
        search: () => [
          { __typename: 'Book', title: 'Dune' },
          { __typename: 'Product', id: 'p1', name: 'Product p1' },
        ],
      },
      Result: { __resolveType: (value: { __typename: string }) => value.__typename },
      Product: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `Product ${ref.id}` }) },
    } as GraphQLResolverMap<unknown>,
  },
  {
    name: 'reviews',
    typeDefs: `${link}
      type Product @key(fields: "id") { id: ID! reviews: [Review!]! }
      type Review { body: String! author: User! }
      type User @key(fields: "id", resolvable: false) { id: ID! }`,
    resolvers: {
      Product: {
        reviews: (p: { id: string }) => [1, 2].map((n) => ({ body: `${p.id} review ${n}`, author: { id: `u${n}` } })),
      },
    },
  },
  {
    name: 'users',
    typeDefs: `${link}
      type User @key(fields: "id") { id: ID! name: String! email: String @requiresScopes(scopes: [["users:email"]]) }`,
    resolvers: {
      User: {
        __resolveReference: (ref: { id: string }) => ({
          id: ref.id,
          name: `User ${ref.id}`,
          email: `${ref.id}@example.com`,
        }),
      },
    },
  },
  {
    name: 'inventory',
    typeDefs: `${link}
      type Product @key(fields: "id") { id: ID! stock: Int! warehouse: String }`,
    resolvers: {
      Product: {
        stock: (p: { id: string }) => Number(p.id.slice(1)) * 10,
        warehouse: (p: { id: string }) => {
          if (p.id === 'p2') throw new Error('warehouse p2 is closed');
          return `W-${p.id}`;
        },
      },
    },
  },
];

export interface DeferGateway {
  gateway: ApolloGateway;
  executor: FederatedExecutor;
  /** While true, every inventory fetch fails fast as behind an open breaker. */
  inventoryDown: boolean;
  stop(): Promise<void>;
}

export async function deferGateway(): Promise<DeferGateway> {
  const composed = composeSupergraph(
    subgraphs.map(({ name, typeDefs }) => ({ name, sdl: typeDefs, url: `http://${name}.invalid/graphql` })),
  );
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const sources: Record<string, GraphQLDataSource> = {};
  for (const { name, typeDefs, resolvers } of subgraphs)
    sources[name] = new LocalGraphQLDataSource(buildSubgraphSchema([{ typeDefs: parse(typeDefs), resolvers }]));
  const control = { inventoryDown: false };
  const inventory = sources.inventory!;
  // The inventory's breaker, when open, fails every fetch fast with this error (gateway/datasource).
  sources.inventory = {
    process: (options) =>
      control.inventoryDown
        ? Promise.reject(new SubgraphUnavailableError('inventory', 'breaker_open'))
        : inventory.process(options),
  };
  const gateway = new ApolloGateway({
    supergraphSdl: liftEnforcedSecurityFeatures(composed.supergraphSdl),
    buildService: ({ name }) => sources[name]!,
  });
  admitDefer(gateway);
  const logger = createLogger({ service: 'test', level: 'silent' });
  const extensions = [limits(loadConfig({ MAX_ALIASES: '2' }).limits, logger), auth({ logger }), planning({ logger })];
  const host = { gateway } as GatewayHost;
  for (const extension of extensions) extension.attach?.(undefined as never, host);
  await gateway.load();
  return Object.assign(control, {
    gateway,
    executor: new FederatedExecutor(gateway, {} as InstanceDirectory, (check) => runChecks(extensions, check)),
    stop: () => gateway.stop(),
  });
}

/** A request's context as the gateway builds it for an anonymous caller. */
export const anonymousContext = (): GatewayContext =>
  ({
    correlationId: 'c1',
    forwardHeaders: {},
    user: null,
    logger: createLogger({ service: 'test', level: 'silent' }),
  }) as GatewayContext;
