/**
 * What a client and the log see when the planner fails: a QUERY_PLANNING_FAILED GraphQL error
 * (400, not retriable), worded for the client, with the planner's own words kept for the log; and
 * the planner wrapped once however often it is guarded.
 */
import type { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import { guardPlanner } from '../../../../gateway/planning/guardedPlanner';
import { planningErrorOf, QUERY_PLANNING_FAILED, QueryPlanningError } from '../../../../gateway/planning/planningError';
import { RequiresIndex } from '../../../../gateway/planning/requiresIndex';
import type { Logger } from '@trellis/kit';

const UNREACHABLE = 'the operation cannot be planned: a selected field cannot be reached from the subgraphs that return its parent';

describe('planningErrorOf', () => {
  it.each([
    'Was not able to find any options for {} on Query.a',
    'Cannot find a path to B.x',
    'No plan found when trying to plan',
  ])('words a path failure for the client: %s', (detail) => {
    const refusal = planningErrorOf(new Error(detail));
    expect(refusal).toBeInstanceOf(QueryPlanningError);
    expect(refusal.message).toBe(UNREACHABLE);
    expect(refusal.detail).toBe(detail);
    expect(refusal.extensions).toEqual({ code: QUERY_PLANNING_FAILED, http: { status: 400 } });
    expect(refusal.retriable).toBe(false);
  });

  it('hides anything else, an assertion or a path failure quoted inside another message, behind a plain refusal', () => {
    expect(planningErrorOf(new Error('Assertion failed: expected a selection set')).message).toBe('the operation cannot be planned');
    expect(planningErrorOf(new Error('internal: Cannot find a path (retrying)')).message).toBe('the operation cannot be planned');
    const thrown = planningErrorOf('a string');
    expect({ message: thrown.message, detail: thrown.detail }).toEqual({ message: 'the operation cannot be planned', detail: 'a string' });
  });

  it('passes a refusal already made through as it is', () => {
    const made = new QueryPlanningError('field x conflicts with itself');
    expect(planningErrorOf(made)).toBe(made);
  });
});

describe('guardPlanner', () => {
  const plan = { kind: 'QueryPlan', node: undefined } as unknown as QueryPlan;
  const plannerThat = (build: () => QueryPlan) => ({ buildQueryPlan: jest.fn(build) }) as unknown as QueryPlanner;
  const warnings: Array<[unknown, string]> = [];
  const logger = { warn: (fields: unknown, message: string) => void warnings.push([fields, message]) } as unknown as Pick<Logger, 'warn'>;
  beforeEach(() => warnings.splice(0));

  it('answers the planner`s plan when it plans', () => {
    const planner = guardPlanner(plannerThat(() => plan), new RequiresIndex([]), logger);
    expect(planner.buildQueryPlan({} as never)).toBe(plan);
    expect(warnings).toEqual([]);
  });

  it('throws the client-facing refusal and logs the planner`s own words', () => {
    const planner = guardPlanner(plannerThat(() => {
      throw new Error('Assertion failed: no root');
    }), new RequiresIndex([]), logger);
    expect(() => planner.buildQueryPlan({} as never)).toThrow(new QueryPlanningError('the operation cannot be planned'));
    expect(warnings).toEqual([[{ reason: 'Assertion failed: no root' }, 'query planning failed']]);
  });

  it('logs the message of a refusal that has no detail', () => {
    const planner = guardPlanner(plannerThat(() => {
      throw new QueryPlanningError('price is required in two currencies by one fetch');
    }), new RequiresIndex([]), logger);
    expect(() => planner.buildQueryPlan({} as never)).toThrow('price is required in two currencies by one fetch');
    expect(warnings).toEqual([[{ reason: 'price is required in two currencies by one fetch' }, 'query planning failed']]);
  });

  it('wraps a planner once however often it is guarded', () => {
    const planner = plannerThat(() => {
      throw new Error('boom');
    });
    const index = new RequiresIndex([]);
    guardPlanner(guardPlanner(planner, index, logger), index, logger);
    expect(() => planner.buildQueryPlan({} as never)).toThrow(QueryPlanningError);
    expect(warnings).toHaveLength(1);
  });
});
