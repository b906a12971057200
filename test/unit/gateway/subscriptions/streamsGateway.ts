/**
 * What the HTTP stream tests (httpStreams, multipart) run on: a real Apollo Gateway and
 * FederatedExecutor over one kit subgraph in this process (loopback graphql-ws, embedded
 * backends), whose `ticks(channel:)` subscription the test feeds event by event and whose upstream
 * end it sees (`ended`); a host that resolves persisted queries with the real resolver and builds
 * contexts from the `authorization` header as the auth and rate-limit extensions would answer.
 */
import { EventEmitter, on } from 'node:events';
import { ApolloGateway } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { connectBackends, createSubgraph, loadConfig, type Backends, type Subgraph } from '@trellis/kit';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';
import { InstanceDirectory } from '../../../../gateway/supergraph/instances';
import { FederatedExecutor } from '../../../../gateway/subscriptions/federatedExecutor';
import { resolvePersistedQuery, type PersistableRequest } from '../../../../gateway/persisted/documents';
import type { GatewayContext } from '../../../../gateway/context';
import type { GatewayHost } from '../../../../gateway/extension';
import { FEDERATION_LINK } from '../../../../subgraphs/federation';
import { recordingLogger } from '../../../support/recordingLogger';

const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  type Query {
    tick(n: Int!): Tick
  }
  type Mutation {
    reset: Boolean
  }
  type Subscription {
    ticks(channel: String!): Tick
  }
  type Tick @key(fields: "n") {
    n: Int!
    channel: String
  }
`;

export interface StreamsGateway {
  executor: FederatedExecutor;
  host: GatewayHost;
  /** Documents registered under their hash (APQ), as the persisted-queries extension keeps them. */
  documents: Map<string, string>;
  /** Sends event `n` to the subscribers of `channel`; `end` completes their subscription from the subgraph's side. */
  tick(channel: string, n: number): void;
  end(channel: string): void;
  /** How many upstream subscriptions to `channel` are open in the subgraph now. */
  listening(channel: string): number;
  /** The channels whose upstream subscription the gateway ended (unsubscribed), in order. */
  ended: string[];
  /** The contexts the host built, in order. */
  contexts: GatewayContext[];
  stop(): Promise<void>;
}

/** `Bearer slow-down`: 429 with Retry-After; `Bearer nope`: 401; `Bearer expiring`: a token 400 ms from expiry; `Bearer <id>`: that user. */
export async function streamsGateway(): Promise<StreamsGateway> {
  const logger = recordingLogger().logger;
  const feeds = new Map<string, EventEmitter>();
  const feed = (channel: string) => feeds.get(channel) ?? feeds.set(channel, new EventEmitter()).get(channel)!;
  const ended: string[] = [];
  const resolvers = {
    Query: { tick: (_: unknown, { n }: { n: number }) => ({ n, channel: null }) },
    Mutation: { reset: () => true },
    Tick: { __resolveReference: ({ n }: { n: number }) => ({ n, channel: null }) },
    Subscription: {
      ticks: {
        // An iterator of its own, not a generator: its `return` runs the moment the gateway unsubscribes,
        // not at the next event a generator waiting inside `for await` would need.
        subscribe: (_: unknown, { channel }: { channel: string }) => {
          const events = on(feed(channel), 'tick', { close: ['end'] }) as AsyncIterableIterator<[number]>;
          const iterator: AsyncIterableIterator<unknown> = {
            [Symbol.asyncIterator]: () => iterator,
            next: async () => {
              const next = await events.next();
              return next.done ? { done: true, value: undefined } : { done: false, value: { ticks: { n: next.value[0], channel } } };
            },
            return: async () => {
              ended.push(channel);
              await events.return?.();
              return { done: true, value: undefined };
            },
          };
          return iterator;
        },
      },
    },
  };
  const config = loadConfig({ LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '500' });
  const backends: Backends = await connectBackends(config, logger);
  const subgraph: Subgraph = createSubgraph({ name: 'clock', typeDefs, resolvers, config, backends, logger });
  await subgraph.start();
  const composed = composeSupergraph([{ name: 'clock', url: subgraph.url, sdl: typeDefs }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const gateway = new ApolloGateway({ supergraphSdl: composed.supergraphSdl });
  await gateway.load();
  const instances = new InstanceDirectory();
  instances.replace([{ id: 'c0', name: 'clock', url: subgraph.url, meta: {}, healthy: true }]);
  const documents = new Map<string, string>();
  const contexts: GatewayContext[] = [];
  const host = {
    gateway,
    instances,
    resolveDocument: (request: PersistableRequest) =>
      resolvePersistedQuery(request, {
        lookup: async (hash) => documents.get(hash),
        register: async (hash, query) => void documents.set(hash, query),
      }),
    buildContext: async (header: (name: string) => string | undefined, origin?: { clientAddress?: string; correlationId?: string }) => {
      const token = header('authorization')?.replace(/^Bearer /, '');
      if (token === 'slow-down')
        throw new GraphQLError('too many requests', {
          extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: new Map([['retry-after', '7']]) } },
        });
      if (token === 'nope') throw new GraphQLError('bad token', { extensions: { code: 'UNAUTHENTICATED' } });
      const user = token === undefined ? null : { id: token, scopes: [], expiresAt: token === 'expiring' ? Date.now() + 400 : undefined };
      const context = {
        correlationId: origin?.correlationId ?? 'c-1',
        clientAddress: origin?.clientAddress,
        logger,
        forwardHeaders: {},
        user,
        responseHeaders: { ratelimit: 'limit=10, remaining=9' },
      } as GatewayContext;
      contexts.push(context);
      return context;
    },
    formatError: (formatted: { message: string; extensions?: Record<string, unknown> }) => ({
      ...formatted,
      extensions: { ...formatted.extensions, formattedBy: 'host' },
    }),
  } as unknown as GatewayHost;
  const executor = new FederatedExecutor(gateway, instances, undefined, {
    maxTokens: 2000,
    introspection: true,
    formatError: (formatted, error) => host.formatError(formatted, error),
  });
  return {
    executor,
    host,
    documents,
    tick: (channel, n) => void feed(channel).emit('tick', n),
    end: (channel) => void feed(channel).emit('end'),
    listening: (channel) => feed(channel).listenerCount('tick'),
    ended,
    contexts,
    stop: async () => {
      await executor.close();
      await gateway.stop();
      await subgraph.stop();
      await backends.close();
    },
  };
}
