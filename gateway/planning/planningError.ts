/**
 * How a planning failure reaches a client: a GraphQL error with `QUERY_PLANNING_FAILED` (Apollo
 * Router's code), never the planner's internal assertion text, which is logged instead.
 */
import { GraphQLError } from 'graphql';

export const QUERY_PLANNING_FAILED = 'QUERY_PLANNING_FAILED';

export class QueryPlanningError extends GraphQLError {
  readonly retriable = false;
  constructor(message: string, readonly detail?: string) {
    super(message, { extensions: { code: QUERY_PLANNING_FAILED, http: { status: 400 } } });
  }
}

/** The client-facing error for what the planner threw; `detail` keeps the planner's own words for the log. */
export function planningErrorOf(error: unknown): QueryPlanningError {
  if (error instanceof QueryPlanningError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  // The planner's "cannot find a path" style errors name fields and are fit to show; an assertion is not.
  const unreachable = /^(Was not able to find any options for|Cannot find a path|No plan found)/.exec(detail);
  const message = unreachable
    ? 'the operation cannot be planned: a selected field cannot be reached from the subgraphs that return its parent'
    : 'the operation cannot be planned';
  return new QueryPlanningError(message, detail);
}
