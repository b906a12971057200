/** Bugs 3 and 4 of issue 20 at the plan level: what Apollo's planner fetches, and what Trellis's rewrites make of it. */
import { GraphQLError, parse, print } from 'graphql';
import type { FetchNode, SequenceNode } from '@apollo/query-planner';
import { plannerFor } from '../../../support/planner/plan';
import { requiredTwiceCase, requiresArgumentCase, nonResolvableKeyCase, unreachableInterfaceObjectCase } from '../../../support/planner/cases';
import { aliasRequiresConflicts, renameBack, RequiresIndex } from '../../../../gateway/planning';
import { splitRequiredTwice } from '../../../../gateway/planning/requiredTwice';

describe('a client field that a @requires selects with other arguments', () => {
  const planner = plannerFor(requiresArgumentCase);
  const query = '{ post { comments(limit: 1) { id body } summary } }';

  it('is merged with the @requires selection by Apollo, so one fetch asks one limit for both', () => {
    const { pretty } = planner.apolloPlan(query);
    expect(pretty.match(/comments\(limit: \d\)/g)).toEqual(['comments(limit: 1)']);
  });

  it('is aliased by Trellis, so the posts fetch asks both limits', () => {
    const { pretty } = planner.plan(query);
    expect(pretty).toContain('comments_trellis0: comments(limit: 1)');
    expect(pretty).toContain('comments(limit: 3)');
  });

  it('comes back under the client name, in data and in error paths', () => {
    const index = RequiresIndex.fromSupergraph(planner.supergraphSdl);
    const aliased = aliasRequiresConflicts(planner.schema, index, parse(query))!;
    const result = renameBack(
      { data: { post: { comments_trellis0: [{ id: 'c1', body: 'x' }], summary: 's' } }, errors: [new GraphQLError('boom', { path: ['post', 'comments_trellis0', 0, 'body'] })] },
      aliased.renames,
    );
    expect(result.data).toEqual({ post: { comments: [{ id: 'c1', body: 'x' }], summary: 's' } });
    expect(result.errors?.[0].path).toEqual(['post', 'comments', 0, 'body']);
  });

  it('leaves documents without a conflict alone: same arguments, an alias of the client, or no requiring field selected', () => {
    const index = RequiresIndex.fromSupergraph(planner.supergraphSdl);
    for (const q of ['{ post { comments(limit: 3) { id } summary } }', '{ post { first: comments(limit: 1) { id } summary } }', '{ post { comments(limit: 1) { id } } }']) {
      expect(aliasRequiresConflicts(planner.schema, index, parse(q))).toBeUndefined();
    }
  });

  it('never takes an alias the document already uses', () => {
    const index = RequiresIndex.fromSupergraph(planner.supergraphSdl);
    const aliased = aliasRequiresConflicts(planner.schema, index, parse('{ post { comments_trellis0: summary comments(limit: 1) { id } } }'))!;
    expect(print(aliased.document)).toContain('comments_trellis1: comments(limit: 1)');
  });
});

describe('one field required twice with different arguments', () => {
  const planner = plannerFor(requiredTwiceCase);
  const query = '{ product { usd eur } }';

  it('is fetched once by Apollo, with the later arguments for both', () => {
    const { pretty } = planner.apolloPlan(query);
    expect(pretty.match(/price\(currency: \w+\)/g)).toEqual(['price(currency: EUR)']);
  });

  it('is split by Trellis: each variant fetched, then the fetch of the fields that need it', () => {
    const { pretty } = planner.plan(query);
    const order = [...pretty.matchAll(/price\(currency: (\w+)\)|\b(usd|eur)\b/g)].map((m) => m[1] ?? m[2]);
    // The root fetch still asks EUR; then USD, usd, EUR, eur in sequence.
    expect(order).toEqual(['EUR', 'USD', 'usd', 'EUR', 'eur']);
  });

  it('under @include: the root fetch keeps one variant (Apollo puts both there, which no subgraph accepts), each still fetched before its field', () => {
    const conditional = 'query ($c: Boolean!) { product { usd @include(if: $c) eur } }';
    expect(planner.apolloPlan(conditional).pretty).toMatch(/price\(currency: EUR\)\s*\.\.\. on Product @include\(if: \$c\) \{\s*price\(currency: USD\)/);
    const { plan, pretty } = planner.plan(conditional);
    const root = ((plan.node as SequenceNode).nodes[0] as FetchNode).operation;
    expect(print(parse(root))).toBe(print(parse('{ product { __typename id price(currency: EUR) } }')));
    const order = [...pretty.matchAll(/price\(currency: (\w+)\)|\b(usd|eur)\b/g)].map((m) => m[1] ?? m[2]);
    expect(order).toEqual(['EUR', 'USD', 'usd', 'EUR', 'eur']);
  });

  it('is refused with a clear error when no key of the owner is in the representation', () => {
    const index = RequiresIndex.fromSupergraph(planner.supergraphSdl);
    index.ownership.keys.set('Product', new Map());
    expect(() => splitRequiredTwice(planner.apolloPlan(query).plan, index)).toThrow(/cannot be planned unambiguously: Product requires price\(currency: USD\) for usd; price\(currency: EUR\) for eur/);
  });

  it('returns a plan without such a fetch as the very same object', () => {
    const other = plannerFor(nonResolvableKeyCase);
    const index = RequiresIndex.fromSupergraph(other.supergraphSdl);
    const plan = other.apolloPlan('{ t { y } }').plan;
    expect(splitRequiredTwice(plan, index)).toBe(plan);
  });
});

describe('planning errors', () => {
  it('reach the client as QUERY_PLANNING_FAILED, without the planner assertion text', () => {
    const planner = plannerFor(unreachableInterfaceObjectCase);
    let thrown: unknown;
    try {
      planner.plan('{ a { id field } }');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GraphQLError);
    expect((thrown as GraphQLError).extensions.code).toBe('QUERY_PLANNING_FAILED');
    expect((thrown as GraphQLError).message).not.toMatch(/shouldn't have happened/);
  });
});
