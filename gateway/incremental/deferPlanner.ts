/**
 * The planner for streamed operations: Apollo's query planner with `incrementalDelivery.enableDefer`,
 * one per supergraph (beside the gateway's own, which plans @defer away for clients that take the
 * whole result at once), guarded as the gateway's is (gateway/planning). Plans are kept in the
 * gateway's plan store under their own keys, so a deferred plan never answers a JSON request.
 */
import type { ApolloGateway } from '@apollo/gateway';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import { operationFromDocument, type Schema, type Supergraph } from '@apollo/federation-internals';
import type { DocumentNode } from 'graphql';
import type { Logger } from '@trellis/kit';
import { guardPlanner, RequiresIndex } from '../planning';
import { sha256 } from '../sha256';
import { inSpanSync } from '@trellis/kit/internal';
import { PLAN_ATTRIBUTES, PLAN_SPAN } from '../observability/planSpans';

interface GatewayPlanning {
  apiSchema?: Schema;
  supergraphSdl?: string;
  queryPlanner?: QueryPlanner;
  queryPlanStore?: {
    get(key: string): Promise<QueryPlan | undefined>;
    set(key: string, plan: QueryPlan): Promise<void>;
  };
}

export class DeferPlanner {
  /** By the gateway's planner, which Apollo Gateway replaces on every supergraph. */
  private readonly planners = new WeakMap<object, QueryPlanner>();

  constructor(
    private readonly gateway: ApolloGateway,
    private readonly logger?: Pick<Logger, 'warn'>,
    /** A miss is planned in a `gateway.plan` span, as on HTTP (a hit has one from the traced plan store). */
    private readonly tracing = false,
  ) {}

  /** The plan of `document` with its @defer fragments as Defer nodes; throws a GraphQLError when planning refuses. */
  async plan(document: DocumentNode, queryHash: string, operationName?: string): Promise<QueryPlan> {
    const internals = this.gateway as unknown as GatewayPlanning;
    const { apiSchema, queryPlanner, queryPlanStore: store } = internals;
    if (!apiSchema || !queryPlanner) throw new Error('no supergraph is served yet');
    const key = `defer:${operationName ? sha256(queryHash + operationName) : queryHash}`;
    const kept = await store?.get(key).catch(() => undefined);
    if (kept) return kept;
    const planner = this.plannerFor(queryPlanner, internals.supergraphSdl ?? '');
    const build = () => planner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }));
    const plan = this.tracing ? inSpanSync(PLAN_SPAN, { attributes: { [PLAN_ATTRIBUTES.cacheHit]: false } }, build) : build();
    await store?.set(key, plan).catch(() => undefined);
    return plan;
  }

  private plannerFor(base: QueryPlanner, supergraphSdl: string): QueryPlanner {
    let planner = this.planners.get(base);
    if (!planner) {
      // Its supergraph and config are private to Apollo's planner, and the same for both.
      const { supergraph, config } = base as unknown as {
        supergraph: Supergraph;
        config: ConstructorParameters<typeof QueryPlanner>[1];
      };
      planner = new QueryPlanner(supergraph, { ...config, incrementalDelivery: { enableDefer: true } });
      guardPlanner(planner, requiresIndexOf(supergraphSdl, this.logger), this.logger);
      this.planners.set(base, planner);
    }
    return planner;
  }
}

/** As gateway/planning reads it; a supergraph it cannot read plans without the argument fixes, as there. */
function requiresIndexOf(supergraphSdl: string, logger?: Pick<Logger, 'warn'>): RequiresIndex {
  try {
    return RequiresIndex.fromSupergraph(supergraphSdl);
  } catch (error) {
    logger?.warn({ err: error }, 'cannot read the @requires of the supergraph; planning deferred operations without the argument fixes');
    return new RequiresIndex([]);
  }
}
