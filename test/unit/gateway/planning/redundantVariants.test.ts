/**
 * Once a fetch is split for a field required in several variants, other fetches keep one variant of
 * that field per selection set: what is dropped, what is kept, and what is left alone.
 */
import { parse, print } from 'graphql';
import type { FetchNode, PlanNode } from '@apollo/query-planner';
import { dropRedundantVariants, type Split } from '../../../../gateway/planning/redundantVariants';

const price = { typeName: 'Product', field: 'price', variants: new Map([['(currency: USD)', ['usd']], ['(currency: EUR)', ['eur']]]) };
const fetchOf = (operation: string, variableUsages = ['c']): FetchNode => ({
  kind: 'Fetch',
  serviceName: 'pricing',
  variableUsages,
  operation,
  operationName: undefined,
  operationKind: 'query' as FetchNode['operationKind'],
});
const splitOf = (...made: FetchNode[]): Split => ({ conflicts: [price], made: new WeakSet(made) });
const operationOf = (node: PlanNode) => print(parse((node as FetchNode).operation));
const same = (query: string) => print(parse(query));

describe('dropRedundantVariants', () => {
  it('keeps the first variant of a selection set, drops the others and the inline fragments they leave empty, and the variables no longer used', () => {
    const fetch = fetchOf('query($c:Boolean!){product{id price(currency:EUR)...on Product@include(if:$c){price(currency:USD)}}}');
    const narrowed = dropRedundantVariants(fetch, splitOf()) as FetchNode;
    expect(operationOf(narrowed)).toBe(same('{ product { id price(currency: EUR) } }'));
    expect(narrowed.variableUsages).toEqual([]);
  });

  it('keeps an inline fragment that still selects something, with its variable', () => {
    const fetch = fetchOf('query($c:Boolean!){product{price(currency:USD)...on Product@include(if:$c){id price(currency:EUR)}}}');
    const narrowed = dropRedundantVariants(fetch, splitOf()) as FetchNode;
    expect(operationOf(narrowed)).toBe(same('query($c: Boolean!) { product { price(currency: USD) ... on Product @include(if: $c) { id } } }'));
    expect(narrowed.variableUsages).toEqual(['c']);
  });

  it('leaves alone: one variant, a variant the split does not know, aliased fields, another field, the fetches the split made, deferred parts', () => {
    const untouched = [
      '{product{price(currency:EUR) other:price(currency:USD)}}',
      '{product{price(currency:EUR)...on Product{price(currency:EUR)}}}',
      '{product{price(currency:EUR)...on Product{price(currency:GBP)}}}',
      '{product{cost(currency:EUR)...on Product{cost(currency:USD)}}}',
    ];
    for (const operation of untouched) {
      const fetch = fetchOf(operation);
      expect(dropRedundantVariants(fetch, splitOf())).toBe(fetch);
    }
    const made = fetchOf('{product{price(currency:EUR)...on Product{price(currency:USD)}}}');
    expect(dropRedundantVariants(made, splitOf(made))).toBe(made);
    const deferred = { kind: 'Defer', primary: {}, deferred: [] } as unknown as PlanNode;
    expect(dropRedundantVariants(deferred, splitOf())).toBe(deferred);
  });

  it('walks sequences, parallels, flattens and both branches of a condition, keeping untouched nodes as they are', () => {
    const conflicting = fetchOf('{product{price(currency:EUR)...on Product{price(currency:USD)}}}', []);
    const clean = fetchOf('{product{id}}', []);
    const flatten = { kind: 'Flatten', path: ['product'], node: conflicting } as PlanNode;
    const plan = {
      kind: 'Sequence',
      nodes: [{ kind: 'Parallel', nodes: [clean, flatten] }, { kind: 'Condition', condition: 'c', ifClause: conflicting, elseClause: clean }],
    } as PlanNode;
    const result = dropRedundantVariants(plan, splitOf()) as unknown as { nodes: [{ nodes: [PlanNode, { node: PlanNode }] }, { ifClause: PlanNode; elseClause: PlanNode }] };
    const expected = same('{ product { price(currency: EUR) } }');
    expect(result.nodes[0].nodes[0]).toBe(clean);
    expect(operationOf(result.nodes[0].nodes[1].node)).toBe(expected);
    expect(operationOf(result.nodes[1].ifClause)).toBe(expected);
    expect(result.nodes[1].elseClause).toBe(clean);
    const cleanPlan = { kind: 'Sequence', nodes: [clean, { kind: 'Condition', condition: 'c', ifClause: clean }] } as PlanNode;
    expect(dropRedundantVariants(cleanPlan, splitOf())).toBe(cleanPlan);
  });
});
