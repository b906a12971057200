/**
 * The request's fetch journal: a deferred part replays its ancestors' fetches from what the
 * subgraphs answered (a copy each time, without the errors, keyed by subgraph, query and
 * variables), never asking a subgraph twice, and refuses a fetch that was never recorded.
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import type { FetchNode, PlanNode } from '@apollo/query-planner';
import { GraphQLError } from 'graphql';
import { FetchJournal } from '../../../../gateway/incremental/execution';
import { replayed } from '../../../../gateway/incremental/replay';

type Options = Parameters<GraphQLDataSource['process']>[0];
const fetch = (serviceName: string): FetchNode => ({
  kind: 'Fetch',
  serviceName,
  operation: '{ a }',
  operationName: undefined,
  operationKind: 'query' as FetchNode['operationKind'],
});
const ask = (query: string, variables?: Record<string, unknown>) => ({ request: { query, variables } }) as unknown as Options;

describe('FetchJournal', () => {
  const calls: string[] = [];
  const subgraph = (name: string, answer: (query: string) => Promise<Awaited<ReturnType<GraphQLDataSource['process']>>>) => ({
    process: (options: Options) => {
      calls.push(`${name} ${options.request.query} ${JSON.stringify(options.request.variables ?? {})}`);
      return answer(options.request.query!);
    },
  });
  const sources = () =>
    new FetchJournal().sources({
      products: subgraph('products', async (query) => ({
        data: { query, items: [{ id: 'p1' }] },
        errors: [new GraphQLError('partial')],
      })),
      reviews: subgraph('reviews', () => Promise.reject(new Error('down'))),
    });
  const replaying = (name: string) => (replayed(fetch(name)) as FetchNode).serviceName;

  beforeEach(() => (calls.length = 0));

  it('a recording source per subgraph, answering as the subgraph does, and a replaying one under another name', async () => {
    const all = sources();
    expect(Object.keys(all)).toHaveLength(4);
    expect(Object.keys(all)).toEqual(expect.arrayContaining(['products', 'reviews', replaying('products'), replaying('reviews')]));
    expect(replaying('products')).not.toBe('products');
    const answer = await all.products!.process(ask('{ items { id } }', { first: 1 }));
    expect(answer.data).toStrictEqual({ query: '{ items { id } }', items: [{ id: 'p1' }] });
    expect(answer.errors?.map((e) => e.message)).toStrictEqual(['partial']);
    await expect(all.reviews!.process(ask('{ r }'))).rejects.toThrow('down');
  });

  it('a replayed fetch answers from the journal, without its errors and without asking the subgraph', async () => {
    const all = sources();
    await all.products!.process(ask('{ items { id } }', { first: 1 }));
    const replay = await all[replaying('products')]!.process(ask('{ items { id } }', { first: 1 }));
    // toEqual: the copies are made by structuredClone, whose objects are not of the test's realm.
    expect(replay).toEqual({ data: { query: '{ items { id } }', items: [{ id: 'p1' }] } });
    expect(Object.keys(replay)).toStrictEqual(['data']);
    expect(calls).toStrictEqual(['products { items { id } } {"first":1}']);
  });

  it('each replay is its own copy: what a part merges into its data does not reach the next part', async () => {
    const all = sources();
    const first = await all.products!.process(ask('{ items { id } }'));
    (first.data!.items as Array<Record<string, unknown>>)[0]!.name = 'merged later';
    const replay = all[replaying('products')]!;
    const one = await replay.process(ask('{ items { id } }'));
    (one.data!.items as Array<Record<string, unknown>>)[0]!.name = 'merged by a part';
    const two = await replay.process(ask('{ items { id } }'));
    expect(two.data).toEqual({ query: '{ items { id } }', items: [{ id: 'p1' }] });
  });

  it('a fetch is told apart by subgraph, query and variables', async () => {
    const all = sources();
    await all.products!.process(ask('{ items { id } }', { first: 1 }));
    const replay = all[replaying('products')]!;
    await expect(replay.process(ask('{ items { id } }', { first: 2 }))).rejects.toThrow(
      'subgraph products: a fetch of an earlier part was not recorded',
    );
    await expect(replay.process(ask('{ items { name } }', { first: 1 }))).rejects.toThrow('not recorded');
    await expect(all[replaying('reviews')]!.process(ask('{ items { id } }', { first: 1 }))).rejects.toThrow(
      'subgraph reviews: a fetch of an earlier part was not recorded',
    );
    // No variables and empty variables are the same fetch.
    await all.products!.process(ask('{ plain }'));
    await expect(replay.process(ask('{ plain }', {}))).resolves.toHaveProperty('data');
    expect(calls).toHaveLength(2);
  });

  it('a fetch that failed replays as no data and no error (its own part reported it)', async () => {
    const all = sources();
    await expect(all.reviews!.process(ask('{ r }'))).rejects.toThrow('down');
    await expect(all[replaying('reviews')]!.process(ask('{ r }'))).resolves.toStrictEqual({});
  });
});

describe('replayed', () => {
  it('every fetch of a plan, under Sequence, Parallel, Flatten and both branches of a Condition, goes to its replaying source', () => {
    const plan: PlanNode = {
      kind: 'Sequence',
      nodes: [
        fetch('products'),
        {
          kind: 'Parallel',
          nodes: [
            { kind: 'Flatten', path: ['items', '@'], node: fetch('reviews') },
            { kind: 'Condition', condition: 'c', ifClause: fetch('users'), elseClause: fetch('inventory') },
            { kind: 'Condition', condition: 'd', ifClause: fetch('users') },
          ],
        },
      ],
    };
    const replay = (name: string) => ({ ...fetch(name), serviceName: `\u0000replay:${name}` });
    expect(replayed(plan)).toStrictEqual({
      kind: 'Sequence',
      nodes: [
        replay('products'),
        {
          kind: 'Parallel',
          nodes: [
            { kind: 'Flatten', path: ['items', '@'], node: replay('reviews') },
            { kind: 'Condition', condition: 'c', ifClause: replay('users'), elseClause: replay('inventory') },
            { kind: 'Condition', condition: 'd', ifClause: replay('users'), elseClause: undefined },
          ],
        },
      ],
    });
  });

  it('a node it does not know stays as it is', () => {
    const defer: PlanNode = { kind: 'Defer', primary: {}, deferred: [] };
    expect(replayed(defer)).toBe(defer);
  });
});
