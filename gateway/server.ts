/**
 * The gateway's HTTP server: Apollo Gateway inside Apollo Server on express, serving
 * `/graphql` once a supergraph exists, plus health endpoints and the extensions' routes.
 */
import { createServer, type Server } from 'node:http';
import express, { type Express, type RequestHandler } from 'express';
import compression from 'compression';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloGateway, type GraphQLDataSource } from '@apollo/gateway';
import type { Config } from '@trellis/kit';
import { correlationIdFrom, CORRELATION_ID_HEADER, type Logger } from '@trellis/kit';
import { apolloHandler, closeServer, graphqlError, jsonErrorHandler, listen, mountHealth, negotiateGraphQLAnswer } from '@trellis/kit/internal';
import { applyApolloTelemetry } from '@trellis/kit/internal/config';
import type { GatewayContext, HeaderReader, RequestOrigin } from './context';
import type { SubgraphHeaders } from './headers';
import type { ApolloOptionsContribution, GatewayExtension, GatewayHost, CheckedOperation, OperationCheck } from './extension';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { SupergraphSource } from './supergraph/types';
import { withEnforcedSecurityFeatures } from './auth/securityFeatures';
import { AdminListener } from './adminListener';
import { resolvePersistedQuery, type PersistableRequest, type ResolvedDocument } from './persisted/documents';
import { checkPipelinePlugin, runChecks } from './checkPipeline';
import { admitDefer } from './incremental';

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  source: SupergraphSource;
  extensions?: GatewayExtension[];
  /** Which caller headers each subgraph gets (the data sources use the same rules). */
  headers: SubgraphHeaders;
  /** Builds the data source for one subgraph. */
  buildDataSource: (name: string) => GraphQLDataSource;
  /** Runs last on stop (e.g. close connection pools). */
  onStop?: () => Promise<void>;
}

export class GatewayServer implements GatewayHost {
  readonly app: Express = express();
  readonly httpServer: Server = createServer(this.app);
  readonly gateway: ApolloGateway;
  private readonly apollo: ApolloServer<GatewayContext>;
  private serving = false;
  private draining = false;
  private readonly extensions: GatewayExtension[];
  /** `/metrics`, `/admin/*` and health details, apart from the public port. */
  readonly admin: AdminListener;

  constructor(readonly options: GatewayOptions) {
    const { source, config } = options;
    this.extensions = options.extensions ?? [];
    this.admin = new AdminListener({ ...config.admin, isReady: () => this.isReady(), details: () => ({ supergraph: source.status().hash }) });
    applyApolloTelemetry(config.gateway.apolloTelemetry);
    this.gateway = new ApolloGateway({
      supergraphSdl: withEnforcedSecurityFeatures(source),
      buildService: ({ name }) => options.buildDataSource(name),
      logger: quietApolloLogger(options.logger),
    });
    // Validation takes @defer on every transport; only a multipart request streams it (gateway/incremental).
    admitDefer(this.gateway);
    this.apollo = new ApolloServer<GatewayContext>({
      gateway: this.gateway,
      introspection: !config.isProduction,
      // Never a stack trace to a client, in any mode: they are in the logs.
      includeStacktraceInErrorResponses: false,
      // Apollo Server's default since v4, spelled out because the endpoint depends on it: a GET or a
      // form/text POST without a preflight-forcing header is refused with 400.
      csrfPrevention: true,
      // Off unless an extension brings its own cache (gateway/persisted), never Apollo's in-memory default.
      persistedQueries: false,
      // The process's own lifecycle (shared/lifecycle) owns SIGINT/SIGTERM. Apollo's handler would race it,
      // and a second stop() during Apollo's drain waits on a barrier Apollo never resolves (a 10 s hang).
      stopOnTerminationSignals: false,
      ...apolloOptionsOf(this.extensions),
      formatError: (formatted, error) => this.formatError(formatted, error),
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer: this.httpServer, stopGracePeriodMillis: config.shutdownGraceMs }),
        responseHeadersPlugin,
        ...this.extensions.flatMap((extension) => extension.apolloPlugins ?? []),
        // Every check, once, in order: the same pipeline WebSocket and SSE run.
        checkPipelinePlugin((check) => this.checkOperation(check)),
      ],
    });
    this.routes();
  }

  get instances() {
    return this.options.source.instances;
  }

  isReady(): boolean {
    return this.serving && !this.draining;
  }

  async resolveDocument(request: PersistableRequest): Promise<ResolvedDocument> {
    const documents = this.extensions.find((extension) => extension.persistedDocuments)?.persistedDocuments;
    if (!documents && request.extensions?.persistedQuery !== undefined) {
      throw new GraphQLError('PersistedQueryNotSupported', { extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } });
    }
    return documents ? resolvePersistedQuery(request, documents) : { query: request.query ?? '' };
  }

  async admitOperation(context: GatewayContext): Promise<void> {
    for (const extension of this.extensions) await extension.admitOperation?.(context);
  }

  /** Listens at once (health answers), then serves `/graphql` when the first supergraph arrives. */
  async start(port = this.options.config.http.port ?? 4000): Promise<string> {
    for (const extension of this.extensions) await extension.attach?.(this.httpServer, this);
    const bound = await listen(this.httpServer, port, this.options.config.http.host, this.options.config.http.timeouts);
    const admin = await this.admin.start();
    await this.apollo.start();
    this.serving = true;
    const url = `http://${this.options.config.http.advertiseHost}:${bound}/graphql`;
    this.options.logger.info({ url, admin }, 'gateway serving');
    return url;
  }

  /** Stops taking requests, lets in-flight ones finish, then closes. */
  async stop(): Promise<void> {
    this.draining = true;
    for (const extension of [...this.extensions].reverse()) await extension.stop?.();
    if (this.serving) await this.apollo.stop();
    await closeServer(this.httpServer, this.options.config.shutdownGraceMs);
    await this.admin.stop(this.options.config.shutdownGraceMs);
    await this.options.source.stop();
    await this.options.onStop?.();
  }

  /** The context of one GraphQL request, from its headers, after every extension had its say. */
  async buildContext(header: HeaderReader, origin: RequestOrigin = {}): Promise<GatewayContext> {
    const correlationId = origin.correlationId ?? correlationIdFrom(header(CORRELATION_ID_HEADER));
    const forwardHeaders = this.options.headers.capture(header);
    // The request's child logger is made the first time something logs, not on every request.
    const base = this.options.logger;
    let logger: Logger | undefined;
    const context: GatewayContext = {
      correlationId,
      forwardHeaders,
      clientAddress: origin.clientAddress,
      get logger() {
        return (logger ??= base.child({ correlationId }));
      },
    };
    for (const extension of this.extensions) await extension.extendContext?.(header, context);
    return context;
  }

  subgraphHeaders(subgraph: string, context: GatewayContext): Record<string, string> {
    return this.options.headers.forSubgraph(subgraph, context.forwardHeaders, context.correlationId);
  }

  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    return this.extensions.reduce((current, extension) => extension.formatError?.(current, error) ?? current, formatted);
  }

  /** The ordered checks (limits, persisted documents, auth, planning) of one operation, on any transport. */
  checkOperation(check: OperationCheck): CheckedOperation {
    return runChecks(this.extensions, check);
  }

  private routes(): void {
    const { app, options } = this;
    app.disable('x-powered-by');
    app.use((req, res, next) => {
      const correlationId = correlationIdFrom(req.header(CORRELATION_ID_HEADER));
      res.locals.correlationId = correlationId;
      res.setHeader(CORRELATION_ID_HEADER, correlationId);
      next();
    });
    // Public health says only live/ready; details are on the admin listener.
    mountHealth(app, () => this.isReady());
    for (const extension of this.extensions) extension.mount?.(app, this);
    for (const extension of this.extensions) extension.mountAdminAssets?.(this.admin.assets, this);
    for (const extension of this.extensions) extension.mountAdmin?.(this.admin.app, this);
    const createGraphqlHandler = () =>
      apolloHandler(this.apollo, (req, res) =>
        this.buildContext((name) => req.header(name), { correlationId: res.locals.correlationId as string, clientAddress: req.socket.remoteAddress }),
      );
    let graphql: ReturnType<typeof createGraphqlHandler> | undefined;
    const graphqlMiddleware = this.extensions.flatMap((extension) => extension.graphqlMiddleware ?? []);
    const multipart = this.extensions.flatMap((extension) => extension.multipartSpecs ?? []);
    const compress = options.config.gateway.compressResponses ? [compressAnswers()] : [];
    // GraphQL-over-HTTP negotiation first: 406 / 415 before the body is read, and the answer's media type for every refusal after.
    app.use('/graphql', negotiateGraphQLAnswer({ multipart }), ...compress, express.json({ limit: options.config.limits.maxBodyBytes }), ...graphqlMiddleware, (req, res, next) => {
      if (!this.serving) {
        res.status(503).json(graphqlError('no supergraph is served yet', 'SUPERGRAPH_UNAVAILABLE'));
        return;
      }
      graphql ??= createGraphqlHandler();
      graphql(req, res, next);
    });
    app.use(jsonErrorHandler(options.logger));
  }
}

/** Sends the headers extensions put in `context.responseHeaders` (e.g. the rate limit's) with the answer. */
const responseHeadersPlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        for (const [name, value] of Object.entries(contextValue.responseHeaders ?? {})) response.http.headers.set(name, value);
      },
    };
  },
};

/** The Apollo Server options the extensions set; an option set by two of them is a start-up error. */
function apolloOptionsOf(extensions: GatewayExtension[]): ApolloOptionsContribution {
  const merged: Record<string, unknown> = {};
  const owners = new Map<string, string>();
  for (const extension of extensions) {
    for (const [option, value] of Object.entries(extension.apolloOptions ?? {})) {
      const owner = owners.get(option);
      if (owner) throw new Error(`extensions ${owner} and ${extension.name} both set the Apollo Server option ${option}`);
      owners.set(option, extension.name);
      merged[option] = value;
    }
  }
  return merged as ApolloOptionsContribution;
}

/**
 * Compresses an answer of 1 KiB or more when the client accepts it (brotli, gzip or deflate, by
 * its Accept-Encoding): list pages and deep queries shrink several times over on real networks.
 * Never an event stream (SSE subscriptions are served before this, and must flush per event).
 */
function compressAnswers(): RequestHandler {
  return compression({
    threshold: 1024,
    filter: (req, res) => !String(res.getHeader('content-type') ?? '').startsWith('text/event-stream') && compression.filter(req, res),
  });
}

/** Apollo's own logger, routed into ours at its levels. */
function quietApolloLogger(logger: Logger) {
  const child = logger.child({ component: 'apollo-gateway' });
  return {
    debug: (message: unknown) => child.debug(String(message)),
    info: (message: unknown) => child.debug(String(message)),
    warn: (message: unknown) => child.warn(String(message)),
    error: (message: unknown) => child.error(String(message)),
  };
}
