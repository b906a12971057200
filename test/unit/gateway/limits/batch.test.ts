import { buildSchema } from 'graphql';
import type { Request, Response } from 'express';
import { readCostDirectives } from '../../../../gateway/limits';
import { batchLimit, measureBatchedOperation, type BatchedRequest } from '../../../../gateway/limits/batch';

const schema = buildSchema('type Query { nodes(first: Int): [Node!]!, node: Node } type Node { id: ID! }');

/** Runs the middleware on a body, the answer negotiated to `mediaType`: 'next' when it lets the request through, else the status and JSON it answered with. */
const send = (handler: ReturnType<typeof batchLimit>, body: unknown, mediaType = 'application/graphql-response+json') => {
  let answer: { status?: number; json?: unknown } | 'next' | undefined;
  const res = {
    // What negotiateGraphQLAnswer, first on /graphql, leaves for the handlers after it.
    locals: { graphqlMediaType: mediaType },
    status(code: number) {
      answer = { status: code };
      return res;
    },
    json(value: unknown) {
      answer = { ...(answer as object), json: value };
      return res;
    },
  };
  handler({ body } as Request, res as unknown as Response, () => {
    answer = 'next';
  });
  return answer;
};

const costs = (byQuery: Record<string, number>) => (request: BatchedRequest) => (typeof request.query === 'string' ? byQuery[request.query] : undefined);

describe('batchLimit', () => {
  const handler = batchLimit({ maxBatch: 3, maxCost: 100 }, costs({ a: 40, b: 30, c: 31, free: 0 }));

  it('lets a single operation through untouched, whatever its cost (the operation limits measure it)', () => {
    expect(send(handler, { query: 'a' })).toBe('next');
    expect(send(batchLimit({ maxBatch: 1, maxCost: 1 }, () => 1000), { query: 'a' })).toBe('next');
  });

  it('passes a batch exactly at the size limit and refuses one more operation', () => {
    expect(send(handler, [{ query: 'free' }, { query: 'free' }, { query: 'free' }])).toBe('next');
    expect(send(handler, [{ query: 'free' }, { query: 'free' }, { query: 'free' }, { query: 'free' }])).toEqual({
      status: 400,
      json: { errors: [{ message: 'batch of 4 operations exceeds the limit of 3', extensions: { code: 'BATCH_TOO_LARGE', measured: 4, limit: 3 } }] },
    });
  });

  it('refuses with 200 under application/json, as a request error (GraphQL-over-HTTP)', () => {
    expect(send(handler, [{ query: 'free' }, { query: 'free' }, { query: 'free' }, { query: 'free' }], 'application/json')).toMatchObject({
      status: 200,
      json: { errors: [{ extensions: { code: 'BATCH_TOO_LARGE' } }] },
    });
  });

  it('adds the costs of a batch`s operations: exactly at the limit passes, one over is refused', () => {
    expect(send(handler, [{ query: 'a' }, { query: 'b' }, { query: 'b' }])).toBe('next');
    expect(send(handler, [{ query: 'a' }, { query: 'b' }, { query: 'c' }])).toEqual({
      status: 400,
      json: {
        errors: [{ message: 'estimated cost 101 of the batch (its operations added) exceeds the limit of 100', extensions: { code: 'QUERY_TOO_COSTLY', measured: 101, limit: 100 } }],
      },
    });
  });

  it('counts what it cannot measure as nothing, leaving it to Apollo Server', () => {
    expect(send(handler, [{ query: 'a' }, { query: 'unknown' }, null])).toBe('next');
    expect(send(handler, [{ query: 'a' }, 'text', [{ query: 'a' }]])).toBe('next');
    // only objects are operations: anything else is never measured
    const costly = batchLimit({ maxBatch: 3, maxCost: 100 }, () => 1000);
    expect(send(costly, ['text', 7, [{ query: 'a' }]])).toBe('next');
    expect(send(costly, [{ query: 'a' }])).toMatchObject({ status: 400 });
  });
});

describe('measureBatchedOperation', () => {
  const directives = readCostDirectives('type Query { nodes(first: Int): [Node!]! @listSize(assumedSize: 4) }');
  const measure = measureBatchedOperation({ maxTokens: 50, defaultListSize: 10 }, () => schema, () => directives);

  it('measures each operation as the operation limits do, with its variables, operation name and the cost directives', () => {
    expect(measure({ query: '{ nodes { id } }' })).toBe(4 * 2);
    expect(measure({ query: 'query ($n: Int) { nodes(first: $n) { id } }', variables: { n: 3 } })).toBe(4 * 2);
    expect(measure({ query: 'query A { node { id } } query B { nodes { id } }', operationName: 'B' })).toBe(8);
    expect(measure({ query: 'query A { node { id } } query B { nodes { id } }', operationName: 'A' })).toBe(2);
    expect(measureBatchedOperation({ maxTokens: 50, defaultListSize: 10 }, () => schema, () => readCostDirectives('type Query { a: Int }'))({
      query: 'query ($n: Int) { nodes(first: $n) { id } }',
      variables: { n: 3 },
    })).toBe(6);
  });

  it('counts an operation by its fields once fragments are inlined when they are more than its cost', () => {
    // node + 2 × (id + __typename) + __typename: 6 fields, cost 1 + 2 = 3
    expect(measure({ query: '{ node { ...N ...N __typename } } fragment N on Node { id __typename }' })).toBe(6);
    // 4 × (1 + 2) = 12 cost, 4 fields
    expect(measure({ query: '{ nodes { ...N ...N } } fragment N on Node { id }' })).toBe(12);
  });

  it('leaves unmeasurable operations to Apollo Server', () => {
    expect(measure({ query: '{ nodes { id }' })).toBeUndefined();
    expect(measure({ query: `{ ${'node { id } '.repeat(20)} }` })).toBeUndefined();
    expect(measure({ extensions: { persistedQuery: {} } } as BatchedRequest)).toBeUndefined();
    expect(measure({ query: 'query A { node { id } } query B { node { id } }' })).toBeUndefined();
    expect(measure({ query: '{ nodes { id } }', operationName: 'Missing' })).toBeUndefined();
    expect(measure({ query: '{ nodes { id } }', variables: ['x'] })).toBe(8);
    expect(measureBatchedOperation({ maxTokens: 50, defaultListSize: 10 }, () => undefined, () => directives)({ query: '{ nodes { id } }' })).toBeUndefined();
  });
});
