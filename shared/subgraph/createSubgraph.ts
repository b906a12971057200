/**
 * `createSubgraph` turns a name, type definitions and resolvers into a running Apollo subgraph:
 * `/graphql`, `/health/live`, `/health/ready`, registration in discovery on start, and on stop
 * deregistration first, then a drain of in-flight requests.
 *
 * ```ts
 * const subgraph = createSubgraph({ name: 'reviews', typeDefs, resolvers });
 * await subgraph.start(); // registers; the gateway composes it in
 * ```
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express, { type Express } from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { graphqlSpans, traceHttpRequests } from '../telemetry';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import { parse, print, type DocumentNode, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { TrellisError } from '../errors';
import { loadConfig, type Config } from '../config';
import { createLogger, type Logger } from '../logging';
import { SCHEMA_REVISION_META, SUBGRAPH_TAG, type Discovery } from '../discovery';
import { connectBackends, type Backends } from '../backends';
import { apolloHandler, closeServer, jsonErrorHandler, listen, mountHealth, negotiateGraphQLAnswer, quietClientProtocolErrors } from '../http';
import { createMetricsRegistry, mountMetrics, type Registry } from '../metrics';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { subscribeTraced } from './eventTraces';
import { anonymousIdentity, bearerIdentity, buildBaseContext, operationHeaders, type IdentityResolver, type SubgraphContext } from './context';
import { createTokenVerifier } from '../auth/verifier';
import { enforceAccess } from './enforceAccess';
import { subgraphLimits } from './limits';
import { handleSagaCommands, type ParticipantOptions, type SagaHandler } from '../saga/participant';
import { createChangeAnnouncer, type AnnounceChange, type ChangeAnnouncement, type Subscription } from '../events';

export interface SubgraphOptions<TContext extends SubgraphContext = SubgraphContext> {
  name: string;
  typeDefs: string | DocumentNode;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resolvers: GraphQLResolverMap<any>;
  config?: Config;
  logger?: Logger;
  /** The platform's backends; connected from config on start when absent. */
  backends?: Backends;
  /** Port to listen on; defaults to config `PORT`, else a free one. */
  port?: number;
  /** Metrics registry served at `/metrics`; one is made when absent. Pass the one your `guard` uses. */
  registry?: Registry;
  /** Extra discovery meta (e.g. `breaker_timeout_ms` to tune the gateway's breaker for this subgraph). */
  meta?: Record<string, string>;
  /** Adds fields to each request's context. */
  context?: (base: SubgraphContext) => Promise<TContext> | TContext;
  identify?: IdentityResolver;
  plugins?: ApolloServerPlugin<TContext>[];
  /**
   * Takes part in sagas: from start to stop the kit consumes this participant's saga commands with
   * `handlers` (one per command name; see `handleSagaCommands`), after `onStart` and before registration.
   * ```ts
   * participant: { name: 'catalog', handlers: inventory.sagaHandlers() }
   * ```
   */
  participant?: SagaParticipant;
  /** Runs after the server listens and before registration (e.g. seed a store). */
  onStart?: (runtime: SubgraphRuntime) => Promise<void>;
  /** Runs after deregistration, drain and the participant's stop (e.g. stop consumers of your own). */
  onStop?: () => Promise<void>;
}

/** A subgraph's part in sagas: the participant name commands are addressed to, and a handler per command. */
export interface SagaParticipant {
  name: string;
  handlers: Record<string, SagaHandler>;
  /** The hash tag of the keys a command writes, so its dedupe records share their slot on Redis Cluster (`ParticipantOptions.slotOf`). */
  slotOf?: ParticipantOptions['slotOf'];
}

export interface SubgraphRuntime {
  name: string;
  url: string;
  config: Config;
  logger: Logger;
  backends: Backends;
  /** Announces entity changes to the gateways' entity caches (see `Subgraph.announceChange`). */
  announceChange: AnnounceChange;
}

export class Subgraph<TContext extends SubgraphContext = SubgraphContext> {
  readonly app: Express = express();
  readonly httpServer: Server = createServer(this.app);
  private apollo?: ApolloServer<TContext>;
  private runtime?: SubgraphRuntime;
  private ownsBackends = false;
  private registrationId?: string;
  private ready = false;
  private wsServer?: WebSocketServer;
  private wsCleanup?: { dispose(): void | Promise<void> };
  /** The saga commands this subgraph consumes as a participant, while it runs. */
  private commands?: Subscription;

  readonly registry: Registry;

  constructor(private readonly options: SubgraphOptions<TContext>) {
    this.registry = options.registry ?? createMetricsRegistry(options.name);
    mountHealth(this.app, () => this.ready);
    mountMetrics(this.app, this.registry);
  }

  get url(): string {
    if (!this.runtime) throw new Error(`subgraph ${this.options.name} is not started`);
    return this.runtime.url;
  }

  /**
   * Tells every gateway's entity cache that these entities changed, after the write is durable:
   * `await subgraph.announceChange({ type: 'Product', key: { id: 'p1' }, fields: ['price'] })`.
   * Published on the event bus (Kafka, or the in-process bus); a publish that keeps failing is
   * retried for `ENTITY_CHANGES_ANNOUNCE_RETRY_MS`, then logged and counted, never thrown.
   */
  announceChange(changes: ChangeAnnouncement | readonly ChangeAnnouncement[]): Promise<void> {
    if (!this.runtime) throw new Error(`subgraph ${this.options.name} is not started`);
    return this.runtime.announceChange(changes);
  }

  get discovery(): Discovery {
    if (!this.runtime) throw new Error(`subgraph ${this.options.name} is not started`);
    return this.runtime.backends.discovery;
  }

  async start(): Promise<SubgraphRuntime> {
    const { name } = this.options;
    const config = this.options.config ?? loadConfig();
    const logger = this.options.logger ?? createLogger({ service: name, level: config.logLevel });
    const backends = this.options.backends ?? (await connectBackends(config, logger));
    this.ownsBackends = !this.options.backends;

    const typeDefs = typeof this.options.typeDefs === 'string' ? parse(this.options.typeDefs) : this.options.typeDefs;
    const schema = buildSubgraphSchema([{ typeDefs, resolvers: this.options.resolvers }]);
    // Guarded fields are checked here too, not only at the gateway: this subgraph may be reached directly.
    const guarded = enforceAccess(schema, typeDefs);
    // The gateway's limits, here too: a caller may skip the gateway and reach this port.
    const limits = subgraphLimits(config, schema, typeDefs);
    const formatError = (formatted: GraphQLFormattedError, error: unknown) => limits.formatError(formatTrellisError(formatted, error));
    this.apollo = new ApolloServer<TContext>({
      schema,
      parseOptions: { maxTokens: limits.maxTokens },
      introspection: !config.isProduction,
      // Never a stack trace to a client, in any mode: they are in the logs.
      includeStacktraceInErrorResponses: false,
      // shared/lifecycle owns the signals; Apollo's own handler would race our stop() (see gateway/server.ts).
      stopOnTerminationSignals: false,
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer: this.httpServer, stopGracePeriodMillis: config.shutdownGraceMs }),
        ApolloServerPluginInlineTraceDisabled(),
        // Spans only when tracing is configured: off, no hook runs per request for them.
        ...(config.telemetry ? [graphqlSpans<TContext>()] : []),
        ...(this.options.plugins ?? []),
      ],
      formatError,
    });
    await this.apollo.start();
    const identify = this.options.identify ?? (config.auth ? bearerIdentity(createTokenVerifier(config.auth, { logger, registry: this.registry })) : anonymousIdentity);
    const extend = this.options.context ?? ((base: SubgraphContext) => base as TContext);
    this.app.use(
      '/graphql',
      // GraphQL-over-HTTP: 406 / 415 before the body is read; the answer's media type for every refusal after.
      negotiateGraphQLAnswer(),
      express.json({ limit: config.subgraph.limits.maxBodyBytes }),
      ...(config.telemetry ? [traceHttpRequests('/graphql')] : []),
      limits.httpCheck,
      apolloHandler(this.apollo, async (req) => extend(await buildBaseContext((name) => req.header(name), logger, identify))),
    );
    // A body over the limit is 413 PAYLOAD_TOO_LARGE in JSON, not express's HTML page.
    this.app.use(jsonErrorHandler(logger));
    // Subscriptions (and any operation) over graphql-ws on the same path; a message over the body limit closes the socket (1009).
    this.wsServer = new WebSocketServer({ server: this.httpServer, path: '/graphql', maxPayload: config.subgraph.limits.maxBodyBytes });
    // graphql-ws wraps an error thrown by an event stream in a GraphQLError with no path, which
    // unwrapResolverError leaves wrapped: unwrap it here, or the stream's TrellisError loses its code.
    const formatOnSocket = (error: GraphQLError) => formatError(error.toJSON(), error.originalError ?? error);
    this.wsCleanup = useServer(
      {
        schema,
        // Parsed with the token limit and checked against the limits before it is validated or run, as on HTTP.
        onSubscribe: (_ctx, _id, payload) => {
          const prepared = limits.prepare(payload.query, payload.operationName, payload.variables);
          if ('errors' in prepared) return prepared.errors;
          return { schema, document: prepared.document, variableValues: payload.variables, operationName: payload.operationName };
        },
        context: async (ctx, _id, payload) => extend(await buildBaseContext(operationHeaders(ctx.connectionParams, payload.extensions), logger, identify)),
        // Apollo's formatError does not run here: keep a TrellisError's code (FORBIDDEN, NOT_FOUND) on WebSocket too.
        onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: result.errors.map(formatOnSocket) } : undefined),
        onError: (_ctx, _id, _payload, errors) => errors.map(formatOnSocket),
        // With tracing on, each subscription and each event that belongs to a trace (tracedEvent) has its span.
        subscribe: config.telemetry ? subscribeTraced : undefined,
      },
      this.wsServer,
    );
    quietClientProtocolErrors(this.wsServer);

    const port = await listen(this.httpServer, this.options.port ?? config.http.port ?? 0, config.http.host, config.http.timeouts);
    const host = config.http.advertiseHost;
    const url = `http://${host}:${port}/graphql`;
    const announceChange = createChangeAnnouncer({ events: backends.events, source: name, logger, registry: this.registry, retryForMs: config.entityChanges.announceRetryMs });
    this.runtime = { name, url, config, logger, backends, announceChange };
    await this.options.onStart?.(this.runtime);
    if (this.options.participant) {
      const { name: participant, handlers, slotOf } = this.options.participant;
      this.commands = await handleSagaCommands(participant, handlers, {
        events: backends.events,
        state: backends.state,
        logger,
        stepPauseMs: config.saga.stepPauseMs,
        deadlineSkewMs: config.saga.deadlineSkewMs,
        dedupeTtlMs: config.saga.dedupeTtlMs,
        slotOf,
        announceChange,
      });
    }

    this.ready = true;
    this.registrationId = `${name}-${host}-${port}`;
    await backends.discovery.register({
      id: this.registrationId,
      name,
      url,
      healthUrl: `http://${host}:${port}/health/ready`,
      meta: {
        subgraph: name,
        graphqlPath: '/graphql',
        tags: SUBGRAPH_TAG,
        [SCHEMA_REVISION_META]: createHash('sha256').update(print(typeDefs)).digest('hex').slice(0, 32),
        ...(this.options.meta ?? {}),
      },
    });
    logger.info({ url, guardedFields: guarded }, `subgraph ${name} serving`);
    return this.runtime;
  }

  /** Deregisters first (the gateway stops routing here), then drains in-flight requests. */
  async stop(): Promise<void> {
    if (!this.runtime) return;
    const { backends, logger, config } = this.runtime;
    this.ready = false;
    if (this.registrationId) {
      await backends.discovery.deregister(this.registrationId).catch((error) => {
        logger.warn({ err: error }, 'deregistration failed; the health check will drop this instance');
      });
    }
    await this.wsCleanup?.dispose();
    this.wsServer?.close();
    await this.apollo?.stop();
    await closeServer(this.httpServer, config.shutdownGraceMs);
    await this.commands?.stop();
    this.commands = undefined;
    await this.options.onStop?.();
    if (this.ownsBackends) await backends.close();
    this.runtime = undefined;
  }
}

/** A TrellisError thrown by a resolver keeps its stable code (e.g. BAD_USER_INPUT) on the way out. */
function formatTrellisError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof TrellisError) {
    // `retriable` tells a client whether sending the same request again may work (a backend was down).
    return { ...formatted, extensions: { ...formatted.extensions, code: original.code, ...(original.retriable ? { retriable: true } : {}) } };
  }
  return formatted;
}

export function createSubgraph<TContext extends SubgraphContext = SubgraphContext>(
  options: SubgraphOptions<TContext>,
): Subgraph<TContext> {
  return new Subgraph(options);
}
