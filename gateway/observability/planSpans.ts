/**
 * The plan span with its cache outcome. Apollo Gateway opens `gateway.plan` only when it plans (a
 * miss) and nothing on a hit, so with tracing on its plan cache is wrapped: a hit is a
 * `gateway.plan` span of its own, and the planner marks the span it plans in as a miss. The
 * subscription executor plans through the same cache and planner, so both transports read alike.
 */
import type { ApolloGateway } from '@apollo/gateway';
import type { QueryPlan } from '@apollo/query-planner';
import { activeSpan, startSpan } from '@trellis/kit/internal';

export const PLAN_SPAN = 'gateway.plan';
export const PLAN_ATTRIBUTES = { cacheHit: 'trellis.plan.cache_hit' } as const;

interface PlanInternals {
  queryPlanStore?: { get(key: string): Promise<QueryPlan | undefined> };
  queryPlanner?: { buildQueryPlan(...args: unknown[]): QueryPlan };
}

export function tracePlanCache(gateway: ApolloGateway): void {
  const internals = gateway as unknown as PlanInternals;
  const store = internals.queryPlanStore;
  if (store) {
    const get = store.get.bind(store);
    store.get = async (key) => {
      const startTime = Date.now();
      const plan = await get(key);
      if (plan) startSpan(PLAN_SPAN, { startTime, attributes: { [PLAN_ATTRIBUTES.cacheHit]: true } }).end();
      return plan;
    };
  }
  // A new planner comes with every supergraph, before the gateway's listeners hear of it.
  gateway.onSchemaLoadOrUpdate(() => {
    const planner = internals.queryPlanner;
    if (!planner) return;
    const build = planner.buildQueryPlan.bind(planner);
    planner.buildQueryPlan = (...args) => {
      activeSpan()?.setAttribute(PLAN_ATTRIBUTES.cacheHit, false);
      return build(...args);
    };
  });
}
