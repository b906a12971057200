/**
 * The split of an entity fetch needing one field in two argument variants, on plans written out as
 * Apollo's planner makes them (test/unit/gateway/planning/argumentConflicts.test.ts plans the same
 * case for real): what each new fetch asks, of which subgraph, in which order, where in the plan,
 * and when the plan is refused or left as it is.
 */
import { parse, print } from 'graphql';
import type { FetchNode, FlattenNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import { splitRequiredTwice } from '../../../../gateway/planning/requiredTwice';
import { RequiresIndex } from '../../../../gateway/planning/requiresIndex';
import { QueryPlanningError } from '../../../../gateway/planning/planningError';

// requiredTwiceCase's supergraph (test/support/planner/cases.ts), as composition writes it, plus a field needing no price.
const SUPERGRAPH = `
  enum join__Graph { LABELS @join__graph(name: "labels", url: "http://labels.invalid") PRICING @join__graph(name: "pricing", url: "http://pricing.invalid") }
  type Product @join__type(graph: LABELS, key: "id") @join__type(graph: PRICING, key: "id") {
    id: ID!
    price(currency: Currency!): Float! @join__field(graph: LABELS, external: true) @join__field(graph: PRICING)
    usd: String! @join__field(graph: LABELS, requires: "price(currency: USD)")
    eur: String! @join__field(graph: LABELS, requires: "price(currency: EUR)")
    name: String @join__field(graph: LABELS)
  }
`;
const index = () => RequiresIndex.fromSupergraph(SUPERGRAPH);

const root: FetchNode = {
  kind: 'Fetch',
  serviceName: 'pricing',
  variableUsages: ['c'],
  operation: 'query Q__pricing__0($c:Boolean!){product{__typename id price(currency:EUR)...on Product@include(if:$c){price(currency:USD)}}}',
  operationKind: 'query' as FetchNode['operationKind'],
  operationName: 'Q__pricing__0',
};

/** The root fetch once a split made its conditional USD price redundant (redundantVariants.ts): EUR alone, $c unused. */
const rootNarrowed: FetchNode = {
  ...root,
  operation: print(parse('query Q__pricing__0 { product { __typename id price(currency: EUR) } }')),
  variableUsages: [],
  operationDocumentNode: undefined,
};

const carried = [{ kind: 'InlineFragment' as const, typeCondition: 'Product', selections: ['__typename', 'id', 'price'].map((name) => ({ kind: 'Field' as const, name })) }];

/** The labels fetch Apollo plans after the root fetch, selecting `selection` on Product. */
const labels = (selection: string, overrides: Partial<FetchNode> = {}): FetchNode => ({
  kind: 'Fetch',
  serviceName: 'labels',
  requires: carried,
  variableUsages: ['c'],
  operation: `query Q__labels__1($representations:[_Any!]!$c:Boolean!){_entities(representations:$representations){...on Product{${selection}}}}`,
  operationKind: 'query' as FetchNode['operationKind'],
  operationName: 'Q__labels__1',
  ...overrides,
});

const flatten = (node: PlanNode): FlattenNode => ({ kind: 'Flatten', path: ['product'], node });
const planOf = (node?: QueryPlan['node']): QueryPlan => ({ kind: 'QueryPlan', node }) as QueryPlan;

/** The fetch of one price variant, as the split writes it. */
const priceFetch = (currency: string, operationName: string): FetchNode => ({
  kind: 'Fetch',
  serviceName: 'pricing',
  requires: [{ kind: 'InlineFragment', typeCondition: 'Product', selections: [{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: 'id' }] }],
  variableUsages: [],
  operation: `query ${operationName}($representations:[_Any!]!){_entities(representations:$representations){...on Product{price(currency: ${currency})}}}`,
  operationName,
  operationKind: 'query' as FetchNode['operationKind'],
  inputRewrites: [],
  outputRewrites: [],
});

/** The labels fetch narrowed to `selection`, with the variables it still uses. */
const narrowed = (variables: string, selection: string, variableUsages: string[], name = 'Q__labels__1'): FetchNode => ({
  ...labels(''),
  operationName: name,
  operation: print(parse(`query ${name}($representations: [_Any!]!${variables}) { _entities(representations: $representations) { ... on Product { ${selection} } } }`)),
  variableUsages,
  operationDocumentNode: undefined,
});

describe('splitRequiredTwice', () => {
  it('fetches each variant, then the fields needing it; fields needing neither go with the first, __typename with each, and unused variables are dropped', () => {
    const split = splitRequiredTwice(planOf({ kind: 'Sequence', nodes: [root, flatten(labels('__typename usd@include(if:$c) name eur'))] }), index());
    expect(split.node).toEqual({
      kind: 'Sequence',
      nodes: [
        rootNarrowed,
        {
          kind: 'Sequence',
          nodes: [
            flatten(priceFetch('USD', 'Q__labels__1_requires0')),
            flatten(narrowed(', $c: Boolean!', '__typename usd @include(if: $c) name', ['c'])),
            flatten(priceFetch('EUR', 'Q__labels__1_requires1')),
            flatten(narrowed('', '__typename eur', [])),
          ],
        },
      ],
    });
  });

  it('names the new fetches after Trellis when the fetch has no operation name', () => {
    const split = splitRequiredTwice(planOf(flatten(labels('usd eur', { operationName: undefined, variableUsages: undefined }))), index());
    const fetches = (split.node as { nodes: FlattenNode[] }).nodes.map((node) => node.node as FetchNode);
    expect(fetches.map((fetch) => fetch.operationName)).toEqual(['Trellis_requires0', undefined, 'Trellis_requires1', undefined]);
    expect(fetches[0].operation).toBe('query Trellis_requires0($representations:[_Any!]!){_entities(representations:$representations){...on Product{price(currency: USD)}}}');
    expect(fetches[1].variableUsages).toBeUndefined();
  });

  it('splits the fetch wherever it sits: in parallel, under a condition, a flatten, or a subscription`s rest', () => {
    const fetch = labels('usd eur');
    const expected = splitRequiredTwice(planOf(flatten(fetch)), index()).node;
    expect((expected as { nodes: unknown[] }).nodes).toHaveLength(4);

    expect(splitRequiredTwice(planOf({ kind: 'Parallel', nodes: [root, flatten(fetch)] }), index()).node).toEqual({ kind: 'Parallel', nodes: [rootNarrowed, expected] });
    const condition = { kind: 'Condition', condition: 'c', ifClause: flatten(fetch), elseClause: root } as PlanNode;
    expect(splitRequiredTwice(planOf(condition), index()).node).toEqual({ ...condition, ifClause: expected, elseClause: rootNarrowed });
    const otherwise = { kind: 'Condition', condition: 'c', ifClause: undefined, elseClause: flatten(fetch) } as PlanNode;
    expect(splitRequiredTwice(planOf(otherwise), index()).node).toEqual({ ...otherwise, elseClause: expected });
    const nested = { kind: 'Flatten', path: ['list', '@'], node: { kind: 'Sequence', nodes: [flatten(fetch)] } } as PlanNode;
    expect(splitRequiredTwice(planOf(nested), index()).node).toEqual({ ...nested, node: { kind: 'Sequence', nodes: [expected] } });
    const subscription: QueryPlan['node'] = { kind: 'Subscription', primary: root, rest: flatten(fetch) };
    expect(splitRequiredTwice(planOf(subscription), index()).node).toEqual({ kind: 'Subscription', primary: rootNarrowed, rest: expected });
  });

  it('returns the very same plan when nothing needs a split', () => {
    const same = (node: QueryPlan['node'], requires = index()) => {
      const plan = planOf(node);
      expect(splitRequiredTwice(plan, requires)).toBe(plan);
    };
    const fetch = labels('usd eur');
    same(undefined);
    same(flatten(fetch), new RequiresIndex([]));
    // one variant needed, a field needing none, a fetch with no representations, one of another subgraph
    same({ kind: 'Sequence', nodes: [root, flatten(labels('usd name'))] });
    same(flatten(labels('name')));
    same({ kind: 'Parallel', nodes: [root, flatten({ ...fetch, requires: undefined })] });
    same(flatten({ ...fetch, serviceName: 'pricing' }));
    // no entities fetched, or on a fragment without a type condition
    same(flatten(labels('usd eur', { operation: '{ product { usd eur } }' })));
    same(flatten(labels('usd eur', { operation: 'query($representations:[_Any!]!){_entities(representations:$representations){...{usd eur}}}' })));
    // deferred parts are planned apart and left alone
    same({ kind: 'Defer', primary: {}, deferred: [] } as unknown as PlanNode);
    same({ kind: 'Condition', condition: 'c', ifClause: root, elseClause: undefined } as PlanNode);
    same({ kind: 'Flatten', path: ['product'], node: { kind: 'Sequence', nodes: [root] } } as PlanNode);
    same({ kind: 'Subscription', primary: root });
    same({ kind: 'Subscription', primary: root, rest: { kind: 'Sequence', nodes: [flatten(labels('name'))] } });
  });

  it('takes the first subgraph that resolves the field by a key the representation carries, a plain key only', () => {
    const requires = index();
    requires.ownership.fields.set('Product.price', ['stock', 'archive', 'pricing']);
    requires.ownership.keys.set(
      'Product',
      new Map([
        ['stock', ['sku', 'id sku']],
        ['archive', ['id info { id }']],
        ['pricing', ['id']],
      ]),
    );
    const split = splitRequiredTwice(planOf(flatten(labels('usd eur'))), requires);
    expect(((split.node as { nodes: FlattenNode[] }).nodes[0].node as FetchNode).serviceName).toBe('pricing');
    // a key spread over several fields, all carried
    requires.ownership.keys.set('Product', new Map([['stock', ['  __typename   id ']]]));
    const byBoth = ((splitRequiredTwice(planOf(flatten(labels('usd eur'))), requires).node as { nodes: FlattenNode[] }).nodes[0].node as FetchNode);
    expect(byBoth.serviceName).toBe('stock');
    expect(byBoth.requires).toEqual([{ kind: 'InlineFragment', typeCondition: 'Product', selections: ['__typename', '__typename', 'id'].map((name) => ({ kind: 'Field', name })) }]);
  });

  it('refuses, naming every variant, when no subgraph serves the field by a carried key', () => {
    const message =
      'the operation cannot be planned unambiguously: Product requires price(currency: USD) for usd; price(currency: EUR) for eur, and no subgraph serves Product.price by a key the entity fetch carries';
    const refusal = (requires: RequiresIndex, fetch = labels('usd eur')) => {
      try {
        splitRequiredTwice(planOf(flatten(fetch)), requires);
      } catch (error) {
        expect(error).toBeInstanceOf(QueryPlanningError);
        return (error as Error).message;
      }
      return 'planned';
    };
    const noKey = index();
    noKey.ownership.keys.set('Product', new Map([['pricing', ['sku']]]));
    expect(refusal(noKey)).toBe(message);
    const noOwner = index();
    noOwner.ownership.fields.delete('Product.price');
    expect(refusal(noOwner)).toBe(message);
    const noKeys = index();
    noKeys.ownership.keys.delete('Product');
    expect(refusal(noKeys)).toBe(message);
    // the key's field carried only with a selection, or on another type, is not carried
    const withSelection = [{ kind: 'InlineFragment' as const, typeCondition: 'Product', selections: [{ kind: 'Field' as const, name: 'id', selections: [{ kind: 'Field' as const, name: 'x' }] }] }];
    expect(refusal(index(), labels('usd eur', { requires: withSelection }))).toBe(message);
    const otherType = [{ kind: 'InlineFragment' as const, typeCondition: 'Offer', selections: [{ kind: 'Field' as const, name: 'id' }] }];
    expect(refusal(index(), labels('usd eur', { requires: otherType }))).toBe(message);
    expect(refusal(index())).toBe('planned');
  });

  it('refuses when two fields are each required in several variants', () => {
    const twice = RequiresIndex.fromSupergraph(
      SUPERGRAPH.replace(
        'name: String @join__field(graph: LABELS)',
        'kg: Int @join__field(graph: LABELS, requires: "weight(unit: KG)") lb: Int @join__field(graph: LABELS, requires: "weight(unit: LB)")',
      ),
    );
    expect(() => splitRequiredTwice(planOf(flatten(labels('usd eur kg lb'))), twice)).toThrow(
      new QueryPlanningError(
        'the operation cannot be planned unambiguously: Product requires price(currency: USD) for usd; price(currency: EUR) for eur, and more than one field is required with several argument variants',
      ),
    );
    // one of them asked alone: only the price splits
    expect((splitRequiredTwice(planOf(flatten(labels('usd eur kg'))), twice).node as { nodes: unknown[] }).nodes).toHaveLength(4);
  });
});
