/**
 * Two small subgraphs for the entity cache's tests, served by the kit on real HTTP servers:
 * `shelf` lists products (its root field declares 30 s), `stock` resolves `Product.inStock`
 * (the type declares 60 s) and `Product.price` (5 s), counting every representation it is asked
 * for, and failing for a product whose stock is set to `null`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import type { Subgraph } from '@trellis/kit';
import { composeSupergraph } from '../../gateway/supergraph/compose';
import { startSubgraph } from './inProcess';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
/** Apollo's `@cacheControl`, declared as every subgraph that uses it declares it. */
export const CACHE_CONTROL_SDL = `
  enum CacheControlScope { PUBLIC PRIVATE }
  directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
`;

const shelfSdl = `
  ${LINK}
  ${CACHE_CONTROL_SDL}
  type Query { products(upcs: [ID!]!): [Product!]! @cacheControl(maxAge: 30) }
  type Product @key(fields: "upc") { upc: ID! }
`;

const stockSdl = `
  ${LINK}
  ${CACHE_CONTROL_SDL}
  type Product @key(fields: "upc") @cacheControl(maxAge: 60) {
    upc: ID!
    inStock: Int
    price: Float @cacheControl(maxAge: 5)
  }
`;

export interface EntityCacheGraph {
  supergraphPath: string;
  /** Stock by upc; `null`: resolving it fails. */
  stock: Map<string, number | null>;
  /** Every representation `stock` was asked for, in order. */
  asked: string[];
  stop(): Promise<void>;
}

export async function startEntityCacheGraph(): Promise<EntityCacheGraph> {
  const stock = new Map<string, number | null>([
    ['1', 10],
    ['2', 20],
    ['3', 30],
  ]);
  const asked: string[] = [];
  const shelf: Subgraph = await startSubgraph(
    () => ({
      name: 'shelf',
      typeDefs: shelfSdl,
      resolvers: { Query: { products: (_: unknown, { upcs }: { upcs: string[] }) => upcs.map((upc) => ({ upc })) } },
    }),
    {},
  );
  const stockSubgraph: Subgraph = await startSubgraph(
    () => ({
      name: 'stock',
      typeDefs: stockSdl,
      resolvers: {
        Product: {
          __resolveReference: ({ upc }: { upc: string }) => {
            asked.push(upc);
            return { upc };
          },
          inStock: ({ upc }: { upc: string }) => {
            const units = stock.get(upc);
            if (units === null) throw new GraphQLError(`stock of ${upc} is unknown`, { extensions: { code: 'STOCK_UNKNOWN' } });
            return units ?? 0;
          },
          price: ({ upc }: { upc: string }) => Number(upc) * 1.5,
        },
      },
    }),
    {},
  );
  const composed = composeSupergraph([
    { name: 'shelf', sdl: shelfSdl, url: shelf.url },
    { name: 'stock', sdl: stockSdl, url: stockSubgraph.url },
  ]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-entity-cache-')), 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
  return {
    supergraphPath,
    stock,
    asked,
    stop: async () => {
      await stockSubgraph.stop();
      await shelf.stop();
    },
  };
}
