/**
 * Executes operations against the supergraph outside Apollo Server's HTTP pipeline, for
 * WebSocket and SSE clients, including subscriptions, which Apollo Gateway's executor refuses.
 *
 * A subscription plans as a SubscriptionNode: a `primary` fetch to the subgraph that owns the
 * root field, and the `rest` of the plan for fields other subgraphs own. The primary runs over
 * graphql-ws against a healthy instance of that subgraph; each event then runs through Apollo
 * Gateway's own `executeQueryPlan` as the plan `Sequence[primary, rest]`, where the primary's
 * data source answers with the event. So every event is resolved exactly as a query would be.
 *
 * It reaches into ApolloGateway's private fields (planner, schemas, data sources): the gateway
 * exposes no public API for this; the fields are read at each call, so supergraph swaps apply.
 */
import { parse, print, validate, specifiedRules, NoSchemaIntrospectionCustomRule, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { ApolloGateway, GraphQLDataSource } from '@apollo/gateway';
import { executeQueryPlan } from '@apollo/gateway/dist/executeQueryPlan';
import { buildOperationContext } from '@apollo/gateway/dist/operationContext';
import { operationFromDocument, type Schema } from '@apollo/federation-internals';
import type { QueryPlan, QueryPlanner, FetchNode, PlanNode } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GatewayContext } from '../context';
import type { CheckedOperation, GatewayHost } from '../extension';
import { conditionHolds, deliver, DeferPlanner, FetchJournal, operationOf, PartFinishing, partsOf, PartShaping, primaryPaths, type IncrementalPayload, type RunPart } from '../incremental/execution';
import type { InstanceDirectory } from '../supergraph/instances';
import { UpstreamConnections, type UpstreamSettings } from './upstream';
import { PreparedDocuments, type PreparedOperation } from './preparedDocuments';
import { sha256 } from '../sha256';
import { activeContext, failSpan, inSpanSync, type Context } from '@trellis/kit/internal';
import { injectTrace, withTraceContext } from '@trellis/kit';
import { PLAN_SPAN } from '../observability/planSpans';
import { startEventSpan, startOperationSpan, startUpstreamSpan, type OperationTrace } from './operationSpans';

interface GatewayInternals {
  schema?: GraphQLSchema;
  apiSchema?: Schema;
  queryPlanner?: QueryPlanner;
  supergraphSchema?: GraphQLSchema;
  /** Apollo Gateway's query-plan cache (the one HTTP uses), cleared by the gateway on every supergraph swap. */
  queryPlanStore?: { get(key: string): Promise<QueryPlan | undefined>; set(key: string, plan: QueryPlan): Promise<void> };
  serviceMap: Record<string, { dataSource: GraphQLDataSource }>;
}

export interface OperationRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** Registers the persisted query this request carried (APQ), once every check passed: never before. */
  register?: () => Promise<void>;
}

/** The rules HTTP applies through Apollo Server, applied here too, so no transport is softer. */
export interface TransportRules {
  /** Tokens per document, enforced while parsing (MAX_TOKENS). */
  maxTokens: number;
  /** False in production: `__schema` / `__type` are refused by validation, as Apollo Server does. */
  introspection: boolean;
  /** Spans for each operation, its checks, plan, upstream subscription and events (only when spans are exported). */
  tracing?: boolean;
  /** The gateway's error formatting (masking, limit codes), applied to every error sent. */
  formatError?: GatewayHost['formatError'];
  /** The headers a call to a subgraph carries (HEADER_RULES); without it, the correlation id alone. */
  subgraphHeaders?: GatewayHost['subgraphHeaders'];
  /** The subgraph connections: keep-alive pings and what hears of a dead one. */
  upstream?: UpstreamSettings;
}

/** A request that passed every check: the document to plan, its plan-cache key, and how to finish each result. */
type Checked = { document: DocumentNode; queryHash: string; finish: CheckedOperation['finish'] };

export class FederatedExecutor {
  private readonly prepared = new PreparedDocuments();
  private readonly upstream: UpstreamConnections;
  private readonly deferPlanner: DeferPlanner;

  constructor(
    private readonly gateway: ApolloGateway,
    private readonly instances: InstanceDirectory,
    /** The gateway's operation checks (auth, limits), the same as on HTTP; throws to refuse. */
    private readonly check: GatewayHost['checkOperation'] = (c) => ({ document: c.document, finish: (result) => result }),
    private readonly rules: TransportRules = { maxTokens: 2000, introspection: true },
  ) {
    this.upstream = new UpstreamConnections(rules.upstream);
    this.deferPlanner = new DeferPlanner(gateway, undefined, rules.tracing);
  }

  /** An error as the client receives it on any transport: no `extensions.http`, which Apollo Server strips on HTTP too. */
  private formatted(error: GraphQLError): GraphQLError {
    if (!this.rules.formatError) return error;
    const { http: _http, ...extensions } = error.extensions;
    const formatted = this.rules.formatError({ ...error.toJSON(), extensions }, error);
    return new GraphQLError(formatted.message, { path: formatted.path, extensions: formatted.extensions });
  }

  private formattedResult(result: ExecutionResult): ExecutionResult {
    if (!result.errors || !this.rules.formatError) return result;
    return { ...result, errors: result.errors.map((error) => this.formatted(error instanceof GraphQLError ? error : fromWire(error))) };
  }

  /** Closes the upstream subscription connections (the gateway is stopping). */
  close(): Promise<void> {
    return this.upstream.close();
  }

  get schema(): GraphQLSchema | undefined {
    return this.gateway.schema;
  }

  /**
   * Parses and validates (once per document and supergraph: valid documents are kept); the
   * operation, or GraphQL errors to send back.
   */
  prepare(request: OperationRequest): PreparedOperation | { errors: GraphQLError[] } {
    const schema = this.gateway.schema;
    if (!schema) return { errors: [this.formatted(new GraphQLError('no supergraph is served yet', { extensions: { code: 'SUPERGRAPH_UNAVAILABLE' } }))] };
    const kept = this.prepared.get(schema, request.query, request.operationName);
    if (kept) return kept;
    const prepared = this.parseAndValidate(schema, request);
    if ('errors' in prepared) return { errors: prepared.errors.map((error) => this.formatted(error)) };
    return this.prepared.set(schema, request.query, request.operationName, prepared);
  }

  private parseAndValidate(schema: GraphQLSchema, request: OperationRequest): { document: DocumentNode; operation: OperationDefinitionNode } | { errors: GraphQLError[] } {
    let document: DocumentNode;
    try {
      document = parse(request.query, { maxTokens: this.rules.maxTokens });
    } catch (error) {
      return { errors: [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
    }
    const errors = validate(schema, document, this.rules.introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule]);
    if (errors.length > 0) return { errors: errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) };
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    const operation = request.operationName ? operations.find((o) => o.name?.value === request.operationName) : operations.length === 1 ? operations[0] : undefined;
    if (!operation) return { errors: [new GraphQLError('name the operation to run (operationName)', { extensions: { code: 'BAD_REQUEST' } })] };
    return { document, operation };
  }

  /**
   * Runs any operation; a subscription yields one result per event, the others one result.
   * `prepared` is what `prepare` gave for this request, when the caller already asked.
   */
  async *execute(request: OperationRequest, context: GatewayContext, signal?: AbortSignal, prepared: ReturnType<FederatedExecutor['prepare']> = this.prepare(request)): AsyncGenerator<ExecutionResult> {
    if (!this.rules.tracing) {
      yield* this.run(request, context, signal, prepared);
      return;
    }
    const operation = startOperationSpan(request, prepared, context, activeContext());
    try {
      for await (const result of this.run(request, context, signal, prepared, operation)) {
        operation.record(result);
        yield result;
      }
    } catch (error) {
      failSpan(operation.span, error);
      throw error;
    } finally {
      operation.span.end();
    }
  }

  private async *run(request: OperationRequest, context: GatewayContext, signal: AbortSignal | undefined, prepared: ReturnType<FederatedExecutor['prepare']>, traced?: OperationTrace): AsyncGenerator<ExecutionResult> {
    const checked = await this.checked(request, context, prepared, traced);
    if ('errors' in checked) {
      yield { errors: checked.errors };
      return;
    }
    for await (const result of this.plan(request, checked.document, checked.queryHash, context, signal, traced)) yield this.formattedResult(checked.finish(result));
  }

  /** The checks (the same pipeline as HTTP's) of a prepared request: the document to plan, or the errors to answer. */
  private async checked(request: OperationRequest, context: GatewayContext, prepared: ReturnType<FederatedExecutor['prepare']>, traced?: OperationTrace): Promise<{ errors: GraphQLError[] } | Checked> {
    if ('errors' in prepared) return { errors: prepared.errors };
    let checked: CheckedOperation;
    try {
      const check = () => this.check({ source: request.query, schema: this.gateway.schema!, document: prepared.document, operation: prepared.operation, variables: request.variables, context });
      checked = traced ? withTraceContext(traced.context, check) : check();
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return { errors: [this.formatted(error)] };
    }
    // Every check passed: only now is a query sent with its hash kept (Apollo Server's order on HTTP).
    await request.register?.();
    // The checks may rewrite the document (auth removes what the caller may not see): its plan is then
    // keyed by the rewritten text, as on HTTP, so callers with other scopes never share a plan.
    const queryHash = checked.document === prepared.document ? prepared.queryHash : (checked.queryHash ?? sha256(print(checked.document)));
    return { document: checked.document, queryHash, finish: checked.finish };
  }

  /**
   * Runs a query or mutation with its @defer fragments delivered as they come (gateway/incremental):
   * the primary part, then each deferred part. A refusal is one initial payload with its errors.
   */
  async *executeIncremental(request: OperationRequest, context: GatewayContext, prepared: ReturnType<FederatedExecutor['prepare']> = this.prepare(request)): AsyncGenerator<IncrementalPayload> {
    const refused = (errors: GraphQLError[]): IncrementalPayload => ({ kind: 'initial', result: { errors }, pending: [], hasNext: false });
    const checked = await this.checked(request, context, prepared);
    if ('errors' in checked) return void (yield refused(checked.errors));
    const internals = this.gateway as unknown as GatewayInternals;
    const { apiSchema, supergraphSchema, schema } = internals;
    if (!apiSchema || !supergraphSchema || !schema) return void (yield refused([this.formatted(new GraphQLError('no supergraph is served yet', { extensions: { code: 'SUPERGRAPH_UNAVAILABLE' } }))]));
    let plan: QueryPlan;
    try {
      plan = await this.deferPlanner.plan(checked.document, checked.queryHash, request.operationName);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return void (yield refused([this.formatted(error)]));
    }
    const operation = operationOf(checked.document, request.operationName);
    const requestContext = this.requestContext(request, checked.document, context);
    const services = new FetchJournal().sources(Object.fromEntries(Object.entries(internals.serviceMap).map(([name, { dataSource }]) => [name, dataSource])));
    const runPart: RunPart = (node, shaping = checked.document) =>
      executeQueryPlan({ kind: 'QueryPlan', node }, services, requestContext, buildOperationContext({ schema, operationDocument: shaping, operationName: request.operationName }), supergraphSchema, apiSchema, undefined) as Promise<ExecutionResult>;
    // A subscription is never streamed here (HTTP sends it elsewhere): planned, it would have no Defer.
    const root = plan.node?.kind === 'Subscription' ? undefined : plan.node;
    const parts = partsOf(root, (variable) => conditionHolds(operation, variable, request.variables ?? {}));
    const primary = 'errors' in prepared ? undefined : primaryPaths(prepared.document, prepared.operation, request.variables ?? {});
    const finishing = new PartFinishing(checked.finish, (result) => this.formattedResult(result), primary);
    for await (const payload of deliver(parts, new PartShaping(schema, operation, checked.document), runPart)) yield finishing.finish(payload);
  }

  private async *plan(request: OperationRequest, document: DocumentNode, queryHash: string, context: GatewayContext, signal?: AbortSignal, traced?: OperationTrace): AsyncGenerator<ExecutionResult> {
    const within = <T>(ctx: Context | undefined, work: () => T): T => (ctx ? withTraceContext(ctx, work) : work());
    const internals = this.gateway as unknown as GatewayInternals;
    const { apiSchema, queryPlanner, supergraphSchema, schema } = internals;
    if (!apiSchema || !queryPlanner || !supergraphSchema || !schema) {
      yield { errors: [new GraphQLError('no supergraph is served yet', { extensions: { code: 'SUPERGRAPH_UNAVAILABLE' } })] };
      return;
    }
    const operationContext = buildOperationContext({ schema, operationDocument: document, operationName: request.operationName });
    let plan: QueryPlan;
    try {
      plan = await within(traced?.context, () => this.planOf(internals, queryPlanner, apiSchema, document, queryHash, request.operationName));
    } catch (error) {
      // A planning refusal (gateway/planning: QUERY_PLANNING_FAILED) is an answer, as on HTTP.
      if (!(error instanceof GraphQLError)) throw error;
      yield { errors: [error] };
      return;
    }
    const requestContext = this.requestContext(request, document, context);
    const serviceMap = () => Object.fromEntries(Object.entries(internals.serviceMap).map(([name, { dataSource }]) => [name, dataSource]));
    const run = (queryPlan: QueryPlan, services: Record<string, GraphQLDataSource>) =>
      executeQueryPlan(queryPlan, services, requestContext, operationContext, supergraphSchema, apiSchema, undefined) as Promise<ExecutionResult>;

    if (plan.node?.kind !== 'Subscription') {
      yield await within(traced?.context, () => run(plan, serviceMap()));
      return;
    }
    const { primary, rest } = plan.node;
    const upstream = traced ? startUpstreamSpan(primary.serviceName, traced) : undefined;
    let index = 0;
    try {
      for await (const event of this.primaryEvents(primary, request.variables ?? {}, context, signal, upstream?.context)) {
        index += 1;
        if (event.errors && !event.data) {
          yield { errors: event.errors };
          continue;
        }
        const node: PlanNode = rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary;
        const services = serviceMap();
        services[primary.serviceName] = eventSource(primary, event, services[primary.serviceName]);
        const eventTrace = upstream && traced ? startEventSpan(event, index, upstream.context, traced) : undefined;
        try {
          // The event span ends once the client was handed the result (the transport asks for the next one).
          yield await within(eventTrace?.context, () => run({ kind: 'QueryPlan', node }, services));
        } finally {
          eventTrace?.span.end();
        }
      }
    } finally {
      upstream?.span.end();
    }
  }

  /** The plan from the gateway's plan store (shared with HTTP, keyed the way Apollo Gateway keys it), planned and kept on a miss. */
  private async planOf(internals: GatewayInternals, planner: QueryPlanner, apiSchema: Schema, document: DocumentNode, queryHash: string, operationName?: string): Promise<QueryPlan> {
    const store = internals.queryPlanStore;
    const key = operationName ? sha256(queryHash + operationName) : queryHash;
    const kept = await store?.get(key).catch(() => undefined);
    if (kept) return kept;
    const build = () => planner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }));
    // A miss is planned in Apollo Gateway's `gateway.plan` span on HTTP; here in one of our own, alike.
    const plan = this.rules.tracing ? inSpanSync(PLAN_SPAN, {}, build) : build();
    await store?.set(key, plan).catch(() => undefined);
    return plan;
  }

  private primaryEvents(primary: FetchNode, variables: Record<string, unknown>, context: GatewayContext, signal?: AbortSignal, traced?: Context) {
    const used = Object.fromEntries((primary.variableUsages ?? []).filter((name) => name in variables).map((name) => [name, variables[name]]));
    const headers = this.rules.subgraphHeaders?.(primary.serviceName, context) ?? { 'x-correlation-id': context.correlationId };
    return this.upstream.subscribe({
      subgraph: primary.serviceName,
      instances: () => this.instances.instancesOf(primary.serviceName),
      query: primary.operation,
      variables: used,
      // The subgraph continues the upstream span (its traceparent travels in the operation's extensions.headers).
      headers: traced ? injectTrace({ ...headers }, traced) : headers,
      signal,
    });
  }

  private requestContext(request: OperationRequest, document: DocumentNode, context: GatewayContext): GatewayGraphQLRequestContext<GatewayContext> {
    return {
      request: { query: request.query, variables: request.variables ?? {}, operationName: request.operationName },
      document,
      context,
      logger: { debug: () => undefined, info: () => undefined, warn: (m: unknown) => context.logger.warn(String(m)), error: (m: unknown) => context.logger.error(String(m)) },
      metrics: {},
      cache: undefined,
    } as unknown as GatewayGraphQLRequestContext<GatewayContext>;
  }
}

/** A subgraph's error as it came over graphql-ws (a plain object): its path and code (e.g. FORBIDDEN) kept. */
function fromWire(error: unknown): GraphQLError {
  const wire = error as { message?: unknown; path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> };
  return new GraphQLError(String(wire.message ?? error), { path: wire.path, extensions: wire.extensions });
}

/** The primary fetch's data source for one event: answers the primary operation with the event, passes anything else on. */
function eventSource(primary: FetchNode, event: ExecutionResult, real: GraphQLDataSource | undefined): GraphQLDataSource {
  return {
    process: async (options) => {
      if (options.request.query === primary.operation) return { data: event.data ?? null, errors: event.errors as never };
      if (!real) throw new GraphQLError(`subgraph ${primary.serviceName} is not served`);
      return real.process(options);
    },
  };
}
