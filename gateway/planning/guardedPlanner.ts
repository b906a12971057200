/**
 * Apollo's QueryPlanner with Trellis's fixes around it: what it throws becomes a clean
 * `QUERY_PLANNING_FAILED` GraphQL error (logged with the planner's own words), and a plan needing
 * one field with two argument variants is split (`requiredTwice.ts`). The gateway's plan store keeps
 * what this returns, so the rewrite runs once per plan, not per request.
 */
import type { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import type { Logger } from '@trellis/kit';
import { planningErrorOf } from './planningError';
import { splitRequiredTwice } from './requiredTwice';
import type { RequiresIndex } from './requiresIndex';

const GUARDED = Symbol('trellis.guardedPlanner');

/** Wraps `planner.buildQueryPlan` in place (idempotent); returns the same planner. */
export function guardPlanner(planner: QueryPlanner, index: RequiresIndex, logger?: Pick<Logger, 'warn'>): QueryPlanner {
  const marked = planner as QueryPlanner & { [GUARDED]?: true };
  if (marked[GUARDED]) return planner;
  const build = planner.buildQueryPlan.bind(planner);
  planner.buildQueryPlan = (...args: Parameters<QueryPlanner['buildQueryPlan']>): QueryPlan => {
    let plan: QueryPlan;
    try {
      plan = build(...args);
    } catch (error) {
      const refusal = planningErrorOf(error);
      logger?.warn({ reason: refusal.detail ?? refusal.message }, 'query planning failed');
      throw refusal;
    }
    return splitRequiredTwice(plan, index);
  };
  marked[GUARDED] = true;
  return planner;
}
