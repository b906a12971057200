/**
 * A plan with Defer nodes split into the parts a client receives, on plans written out as Apollo's
 * planner makes them: the primary part's fetches (Sequence, Parallel, Flatten kept around them),
 * its selection, the deferred parts with their labels, paths, selections and own fetches, nested
 * parts as children, and `@defer(if: $var)` decided by the request's variables.
 */
import type { DeferNode, FetchNode, PlanNode } from '@apollo/query-planner';
import { partsOf } from '../../../../gateway/incremental/execution';

const fetch = (serviceName: string, operation = `{ ${serviceName} }`): FetchNode => ({
  kind: 'Fetch',
  serviceName,
  operation,
  operationName: undefined,
  operationKind: 'query' as FetchNode['operationKind'],
});
const products = fetch('products', '{ products { id } }');
const reviews: PlanNode = { kind: 'Flatten', path: ['products', '@'], node: fetch('reviews') };
const users: PlanNode = { kind: 'Flatten', path: ['products', '@', 'reviews', '@', 'author'], node: fetch('users') };
const never = () => {
  throw new Error('no condition in this plan');
};

/** `{ products { id ... @defer(label: "reviews") { reviews { body ... @defer { author { name } } } } } }` */
const nested: DeferNode = {
  kind: 'Defer',
  primary: { subselection: '{ products { id } }', node: products },
  deferred: [
    {
      depends: [{ id: '0' }],
      label: 'reviews',
      queryPath: ['products'],
      node: {
        kind: 'Defer',
        primary: { subselection: '{ reviews { body } }', node: reviews },
        deferred: [
          {
            depends: [{ id: '1' }],
            queryPath: ['products', 'reviews'],
            subselection: '{ author { name } }',
            node: users,
          },
        ],
      },
    },
  ],
};

describe('partsOf', () => {
  it('no plan: nothing to run, nothing deferred', () => {
    expect(partsOf(undefined, never)).toStrictEqual({ hasDefer: false, deferred: [] });
  });

  it('a plan without Defer is the primary part as it is', () => {
    const plan: PlanNode = { kind: 'Sequence', nodes: [products, reviews] };
    expect(partsOf(plan, never)).toStrictEqual({
      node: { kind: 'Sequence', nodes: [products, reviews] },
      hasDefer: false,
      subselection: undefined,
      deferred: [],
    });
    expect(partsOf(products, never)).toStrictEqual({ node: products, hasDefer: false, deferred: [] });
  });

  it('nested defers: the primary fetch and selection, then the labelled part with its own fetch and its unlabelled child', () => {
    expect(partsOf(nested, never)).toStrictEqual({
      node: products,
      hasDefer: true,
      subselection: '{ products { id } }',
      deferred: [
        {
          label: 'reviews',
          queryPath: ['products'],
          // A fragment with defers of its own: its selection is its Defer's primary.
          subselection: '{ reviews { body } }',
          node: reviews,
          children: [
            {
              queryPath: ['products', 'reviews'],
              subselection: '{ author { name } }',
              node: users,
              children: [],
            },
          ],
        },
      ],
    });
  });

  it('a Defer inside a Sequence and a Flatten: the fetches around it stay in the primary part, in order', () => {
    const defer: DeferNode = {
      kind: 'Defer',
      primary: { node: fetch('inventory') },
      deferred: [{ depends: [], label: 'late', queryPath: ['products'], subselection: '{ stock }' }],
    };
    const plan: PlanNode = {
      kind: 'Sequence',
      nodes: [products, { kind: 'Flatten', path: ['products', '@'], node: defer }],
    };
    expect(partsOf(plan, never)).toStrictEqual({
      node: {
        kind: 'Sequence',
        nodes: [products, { kind: 'Flatten', path: ['products', '@'], node: fetch('inventory') }],
      },
      hasDefer: true,
      subselection: undefined,
      deferred: [{ label: 'late', queryPath: ['products'], subselection: '{ stock }', node: undefined, children: [] }],
    });
  });

  it('a Parallel whose children have no fetch of their own has none either; its selection is the one a child has', () => {
    const all: DeferNode = {
      kind: 'Defer',
      primary: { subselection: '{ __typename }' },
      deferred: [{ depends: [], queryPath: [], subselection: '{ products { id } }', node: products }],
    };
    const parts = partsOf({ kind: 'Parallel', nodes: [all] }, never);
    expect(parts.node).toBeUndefined();
    expect(parts.hasDefer).toBe(true);
    expect(parts.subselection).toBe('{ __typename }');
    expect(parts.deferred).toStrictEqual([
      { queryPath: [], subselection: '{ products { id } }', node: products, children: [] },
    ]);
  });

  it('the first child with a selection gives the Parallel its selection', () => {
    const plain: DeferNode = { kind: 'Defer', primary: { node: fetch('a') }, deferred: [] };
    const selected: DeferNode = { kind: 'Defer', primary: { subselection: '{ b }', node: fetch('b') }, deferred: [] };
    const parts = partsOf({ kind: 'Parallel', nodes: [plain, selected] }, never);
    expect(parts.subselection).toBe('{ b }');
    expect(parts.node).toStrictEqual({ kind: 'Parallel', nodes: [fetch('a'), fetch('b')] });
  });

  it('@defer(if: $var): the if clause when the variable holds, the else clause when not, asked by name', () => {
    const plan: PlanNode = { kind: 'Condition', condition: 'later', ifClause: nested, elseClause: products };
    const asked: string[] = [];
    const deferred = partsOf(plan, (variable) => (asked.push(variable), true));
    expect(asked).toStrictEqual(['later']);
    expect(deferred.hasDefer).toBe(true);
    expect(deferred.deferred.map((part) => part.label)).toStrictEqual(['reviews']);

    expect(partsOf(plan, () => false)).toStrictEqual({ node: products, hasDefer: false, deferred: [] });
  });

  it('a condition inside a deferred part decides its children', () => {
    const child = nested.deferred[0]!.node as DeferNode;
    const conditional: DeferNode = {
      ...nested,
      deferred: [
        { ...nested.deferred[0]!, node: { kind: 'Condition', condition: 'authors', ifClause: child, elseClause: reviews } },
      ],
    };
    expect(partsOf(conditional, () => false).deferred[0]).toStrictEqual({
      label: 'reviews',
      queryPath: ['products'],
      node: reviews,
      children: [],
    });
    expect(partsOf(conditional, () => true).deferred[0]!.children).toHaveLength(1);
  });
});
