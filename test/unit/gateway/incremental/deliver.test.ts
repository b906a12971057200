/**
 * The runner's order and bookkeeping on a scripted `runPart` (the subgraph answers as Apollo's
 * shaping would give them, probes included): what each part runs (its ancestors' fetches replayed,
 * then its own) and with which document, the ids and paths announced, an error placed in the part
 * whose path holds it (an unplaced one in the first), a fragment that failed as a whole, and
 * parts delivered as they finish.
 */
import { buildSchema, parse, print, GraphQLError, type DocumentNode, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import type { FetchNode, PlanNode } from '@apollo/query-planner';
import { deliver, PartShaping, type RunPart } from '../../../../gateway/incremental/execution';
import { replayed } from '../../../../gateway/incremental/replay';
import type { PlanParts } from '../../../../gateway/incremental/parts';
import type { IncrementalPayload } from '../../../../gateway/incremental';

const schema = buildSchema(`
  type Query { products: [Product!]! }
  type Product { id: ID! reviews: [Review] }
  type Review { body: String! author: User! }
  type User { name: String! }
`);
const document = parse('{ products { id ... @defer(label: "r") { reviews { body ... @defer { author { name } } } } } }');
const shaping = () => new PartShaping(schema, document.definitions[0] as OperationDefinitionNode, document);
const fetch = (serviceName: string): FetchNode => ({
  kind: 'Fetch',
  serviceName,
  operation: `{ ${serviceName} }`,
  operationName: undefined,
  operationKind: 'query' as FetchNode['operationKind'],
});
const [products, reviews, users] = [fetch('products'), fetch('reviews'), fetch('users')];
const parts: PlanParts = {
  node: products,
  hasDefer: true,
  subselection: '{ products { id } }',
  deferred: [
    {
      label: 'r',
      queryPath: ['products'],
      subselection: '{ reviews { body } }',
      node: reviews,
      children: [{ queryPath: ['products', 'reviews'], subselection: '{ author { name } }', node: users, children: [] }],
    },
  ],
};

/** What each run was given, and its scripted answer by the service of its last fetch. */
const scripted = (answers: Record<string, () => Promise<ExecutionResult> | ExecutionResult>) => {
  const runs: Array<{ node?: PlanNode; document?: string }> = [];
  const runPart: RunPart = async (node, shaped?: DocumentNode) => {
    runs.push({ node, document: shaped && print(shaped) });
    const last = node?.kind === 'Sequence' ? node.nodes.at(-1) : node;
    return answers[last?.kind === 'Fetch' ? last.serviceName : 'none']!();
  };
  return { runs, runPart };
};
const all = async (generator: AsyncGenerator<IncrementalPayload>) => {
  const payloads: IncrementalPayload[] = [];
  for await (const payload of generator) payloads.push(payload);
  return payloads;
};
const primaryAnswer = () => ({
  data: {
    products: [
      { id: 'p1', trellis__type: 'Product' },
      { id: 'p2', trellis__type: 'Product' },
    ],
  },
});

describe('deliver', () => {
  it('the primary, then the labelled part at each product, then the child at each review, each run on its ancestors replayed', async () => {
    const unplaced = new GraphQLError('no path');
    const second = new GraphQLError('reviews of p2 failed', { path: ['products', 1, 'reviews'] });
    const { runs, runPart } = scripted({
      products: primaryAnswer,
      reviews: () => ({
        data: {
          products: [
            { reviews: [{ body: 'good', trellis__type: 'Review' }] },
            { reviews: null },
          ],
        },
        errors: [second, unplaced],
      }),
      users: () => ({ data: { products: [{ reviews: [{ author: { name: 'Ann' } }] }, { reviews: null }] } }),
    });
    const payloads = await all(deliver(parts, shaping(), runPart));

    expect(payloads).toStrictEqual([
      {
        kind: 'initial',
        result: { data: { products: [{ id: 'p1' }, { id: 'p2' }] } },
        pending: [
          { id: '0', path: ['products', 0], label: 'r' },
          { id: '1', path: ['products', 1], label: 'r' },
        ],
        hasNext: true,
      },
      {
        kind: 'subsequent',
        delivered: [
          { pending: { id: '0', path: ['products', 0], label: 'r' }, data: { reviews: [{ body: 'good' }] }, errors: [unplaced] },
          { pending: { id: '1', path: ['products', 1], label: 'r' }, data: { reviews: null }, errors: [second] },
        ],
        // Only where the parent was delivered: p2 has no review.
        pending: [{ id: '2', path: ['products', 0, 'reviews', 0] }],
        hasNext: true,
      },
      {
        kind: 'subsequent',
        delivered: [{ pending: { id: '2', path: ['products', 0, 'reviews', 0] }, data: { author: { name: 'Ann' } } }],
        pending: [],
        hasNext: false,
      },
    ]);
    expect(runs.map(({ node }) => node)).toStrictEqual([
      products,
      { kind: 'Sequence', nodes: [replayed(products), reviews] },
      { kind: 'Sequence', nodes: [replayed(products), replayed(reviews), users] },
    ]);
    expect(runs.map(({ document }) => document)).toStrictEqual([
      print(shaping().primary(parts.subselection, parts.deferred)),
      print(shaping().deferred(parts.deferred[0]!)),
      print(shaping().deferred(parts.deferred[0]!.children[0]!)),
    ]);
  });

  it("a fragment whose data is null failed as a whole: null, with the shaping's completion errors after its own", async () => {
    const missing = new GraphQLError('Cannot return null for non-nullable field Review.body');
    const own = new GraphQLError('reviews failed', { path: ['products', 0, 'reviews', 0] });
    const { runPart } = scripted({
      products: () => ({ data: { products: [{ id: 'p1', trellis__type: 'Product' }] } }),
      reviews: () => ({ data: { products: [null] }, errors: [own], extensions: { valueCompletion: [missing] } }),
    });
    const payloads = await all(deliver({ ...parts, deferred: [{ ...parts.deferred[0]!, children: [] }] }, shaping(), runPart));
    expect(payloads[1]).toStrictEqual({
      kind: 'subsequent',
      delivered: [{ pending: { id: '0', path: ['products', 0], label: 'r' }, data: null, errors: [own, missing] }],
      pending: [],
      hasNext: false,
    });
  });

  it('a null fragment without completion errors is null with its own errors only; data where it lives takes none', async () => {
    const { runPart } = scripted({
      products: () => ({ data: { products: [{ id: 'p1', trellis__type: 'Product' }] } }),
      reviews: () => ({ data: { products: [null] }, extensions: { valueCompletion: 'not a list' } }),
    });
    const payloads = await all(deliver({ ...parts, deferred: [{ ...parts.deferred[0]!, children: [] }] }, shaping(), runPart));
    expect(payloads[1]).toStrictEqual({
      kind: 'subsequent',
      delivered: [{ pending: { id: '0', path: ['products', 0], label: 'r' }, data: null }],
      pending: [],
      hasNext: false,
    });
  });

  it('siblings are delivered as they finish, not in plan order', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const stock = { queryPath: ['products'], subselection: '{ id }', node: fetch('inventory'), children: [] };
    const { runPart } = scripted({
      products: () => ({ data: { products: [{ id: 'p1', trellis__type: 'Product' }] } }),
      reviews: async () => {
        await slow;
        return { data: { products: [{ reviews: [] }] } };
      },
      inventory: () => {
        release();
        return { data: { products: [{ id: 'p1' }] } };
      },
    });
    const siblings: PlanParts = { ...parts, deferred: [{ ...parts.deferred[0]!, children: [] }, stock] };
    const payloads = await all(deliver(siblings, shaping(), runPart));
    expect(payloads.map((p) => (p.kind === 'initial' ? p.pending.map((x) => x.id) : p.delivered.map((d) => d.pending.id)))).toStrictEqual([
      ['0', '1'],
      ['1'],
      ['0'],
    ]);
    expect(payloads.map((p) => p.hasNext)).toStrictEqual([true, true, false]);
  });

  it('nothing deferred: one payload, the operation shaped by its own document', async () => {
    const { runs, runPart } = scripted({ products: () => ({ data: { products: [] } }) });
    const payloads = await all(deliver({ node: products, hasDefer: false, deferred: [] }, shaping(), runPart));
    expect(payloads).toStrictEqual([{ kind: 'initial', result: { data: { products: [] } }, pending: [], hasNext: false }]);
    expect(runs).toStrictEqual([{ node: products, document: undefined }]);
  });

  it('a primary part with no fetch and a part with none of its own run nothing but their shaping', async () => {
    const { runs, runPart } = scripted({ none: () => ({ data: { products: [{ id: 'p1' }] } }) });
    const root = { queryPath: [], subselection: '{ products { id } }', children: [] };
    const payloads = await all(deliver({ hasDefer: true, deferred: [root] }, shaping(), runPart));
    expect(runs.map(({ node }) => node)).toStrictEqual([undefined, undefined]);
    expect(payloads[1]).toStrictEqual({
      kind: 'subsequent',
      delivered: [{ pending: { id: '0', path: [] }, data: { products: [{ id: 'p1' }] } }],
      pending: [],
      hasNext: false,
    });
  });

  it('a refused primary (no data) announces nothing', async () => {
    const refused = new GraphQLError('refused');
    const { runs, runPart } = scripted({ products: () => ({ errors: [refused] }) });
    const payloads = await all(deliver(parts, shaping(), runPart));
    expect(payloads).toStrictEqual([
      { kind: 'initial', result: { errors: [refused], data: undefined }, pending: [], hasNext: false },
    ]);
    expect(runs).toHaveLength(1);
  });
});
