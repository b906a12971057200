import { parse } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { Request, Response } from 'express';
import { loadConfig } from '@trellis/kit/internal/config';
import { subgraphLimits } from '@trellis/kit/internal/subgraph/limits';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost"])
  type Query { items: [Item!]! }
  type Item @key(fields: "id") { id: ID! name: String heavy: String @cost(weight: 600) }
`);
const schema = buildSubgraphSchema([{ typeDefs, resolvers: {} }]);
const limits = subgraphLimits(loadConfig({ SUBGRAPH_MAX_REPRESENTATIONS: '3' }), schema, typeDefs);
const codes = (prepared: ReturnType<typeof limits.prepare>) => ('errors' in prepared ? prepared.errors.map((error) => error.extensions.code) : 'ok');

describe('subgraphLimits', () => {
  it("measures cost with the subgraph's own @cost, and _entities as one entity whatever the representations", () => {
    // items: 10 × (1 + 600) is over 5000; one entity's heavy field is not.
    expect(codes(limits.prepare('{ items { heavy } }', undefined, undefined))).toEqual(['QUERY_TOO_COSTLY']);
    const entities = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Item { heavy name } } }';
    expect(codes(limits.prepare(entities, undefined, { r: [{}, {}, {}] }))).toBe('ok');
    expect(codes(limits.prepare(entities, undefined, { r: [{}, {}, {}, {}] }))).toEqual(['TOO_MANY_REPRESENTATIONS']);
  });

  it('checks the limits before validating, and validates what passes', () => {
    expect(codes(limits.prepare(`{ items { ${'nope '.repeat(5000)}} }`, undefined, undefined))).toEqual(['QUERY_TOO_COSTLY']);
    expect(codes(limits.prepare('{ items { nope } }', undefined, undefined))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(codes(limits.prepare('{ items { ', undefined, undefined))).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes(limits.prepare('query A { items { id } } query B { items { id } }', 'C', undefined))).toEqual(['BAD_REQUEST']);
  });

  it('parses a text once while it is kept, and keeps no text longer than 16 KiB', () => {
    const first = limits.prepare('{ items { id } }', undefined, undefined);
    const again = limits.prepare('{ items { id } }', undefined, undefined);
    expect('document' in first && 'document' in again && first.document === again.document).toBe(true);
    const long = `{ items { id } } ${'#'.repeat(16 * 1024)}`;
    const one = limits.prepare(long, undefined, undefined);
    const other = limits.prepare(long, undefined, undefined);
    expect('document' in one && 'document' in other && one.document !== other.document).toBe(true);
  });

  it('on HTTP, answers a refusal itself (status and code, without the http extension) and passes everything else to Apollo', () => {
    const answered: Array<{ status: number; body: unknown }> = [];
    const response = () => {
      let status = 0;
      return { status: (code: number) => ((status = code), { json: (body: unknown) => answered.push({ status, body }) }) } as unknown as Response;
    };
    const passed: string[] = [];
    const send = (req: Partial<Request>) => limits.httpCheck(req as Request, response(), () => passed.push(String(req.method)));
    send({ method: 'POST', body: { query: '{ items { heavy } }' } });
    expect(answered).toEqual([{ status: 400, body: { errors: [{ message: 'estimated cost 6010 exceeds the limit of 5000', extensions: { code: 'QUERY_TOO_COSTLY', measured: 6010, limit: 5000 } }] } }]);
    send({ method: 'GET', query: { query: 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }', variables: JSON.stringify({ r: [1, 2, 3, 4] }) } });
    expect(answered[1]?.body).toEqual({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_REPRESENTATIONS' }) })] });
    send({ method: 'POST', body: { query: '{ items { id } }' } });
    send({ method: 'POST', body: [{ query: '{ items { heavy } }' }] });
    send({ method: 'POST', body: { query: '{ items {' } });
    send({ method: 'GET', query: { query: '{ items { id } }', variables: 'not json' } });
    expect(passed).toEqual(['POST', 'POST', 'POST', 'GET']);
    expect(answered).toHaveLength(2);
  });
});

describe('subgraphLimits, its document cache and what it checks', () => {
  const fresh = (env: Record<string, string> = {}) => subgraphLimits(loadConfig(env), schema, typeDefs);
  const documentOf = (prepared: ReturnType<typeof limits.prepare>) => {
    if (!('document' in prepared)) throw new Error(`refused: ${JSON.stringify(prepared.errors)}`);
    return prepared.document;
  };

  it('keeps the 256 most recently used texts: a text used again outlives older ones, the least recently used is dropped', () => {
    const kept = fresh();
    const text = (n: number) => `{ items { id } } # ${n}`;
    const used = documentOf(kept.prepare('{ items { name } }', undefined, undefined));
    const oldest = documentOf(kept.prepare(text(0), undefined, undefined));
    for (let n = 1; n < 255; n += 1) kept.prepare(text(n), undefined, undefined);
    // 256 kept now: used again, it becomes the most recent and the first text the oldest.
    expect(documentOf(kept.prepare('{ items { name } }', undefined, undefined))).toBe(used);
    expect(documentOf(kept.prepare(text(1), undefined, undefined))).toBe(documentOf(kept.prepare(text(1), undefined, undefined)));
    kept.prepare(text(255), undefined, undefined);
    expect(documentOf(kept.prepare('{ items { name } }', undefined, undefined))).toBe(used);
    expect(documentOf(kept.prepare(text(0), undefined, undefined))).not.toBe(oldest);
  });

  it('keeps a text of exactly 16 KiB', () => {
    const kept = fresh();
    const head = '{ items { id } } #';
    const text = head + '#'.repeat(16 * 1024 - head.length);
    expect(text).toHaveLength(16 * 1024);
    expect(documentOf(kept.prepare(text, undefined, undefined))).toBe(documentOf(kept.prepare(text, undefined, undefined)));
  });

  it('parses with the token limit, and formatError names the refusal TOO_MANY_TOKENS', () => {
    const few = fresh({ SUBGRAPH_MAX_TOKENS: '12' });
    expect(few.maxTokens).toBe(12);
    const prepared = few.prepare('{ items { id name id name id name id name id } }', undefined, undefined);
    expect(codes(prepared)).toEqual(['GRAPHQL_PARSE_FAILED']);
    const [error] = 'errors' in prepared ? prepared.errors : [];
    expect(few.formatError({ message: error!.message, extensions: error!.extensions })).toEqual({
      message: 'query has more than 12 tokens (parsing stopped at token 13); the limit is 12',
      extensions: { code: 'TOO_MANY_TOKENS', measured: 13, limit: 12 },
    });
    expect(codes(few.prepare('{ items { id } }', undefined, undefined))).toBe('ok');
  });

  it('checks the operation named, not only a lone one', () => {
    const two = 'query A { items { id } } query B { items { heavy } }';
    expect(codes(limits.prepare(two, 'B', undefined))).toEqual(['QUERY_TOO_COSTLY']);
    expect(codes(limits.prepare(two, 'A', undefined))).toBe('ok');
    expect(codes(limits.prepare(two, null, undefined))).toEqual(['BAD_REQUEST']);
    const refused = limits.prepare(two, 'C', undefined);
    expect('errors' in refused && refused.errors.map((error) => error.message)).toEqual(['Unable to identify operation']);
  });

  it('counts _entities as one entity: a selection costly tenfold is not refused', () => {
    // One Item with heavy is 601; ten (an unsized list's assumption) would be over 5000. Built inside the test, so
    // that Stryker's per-test coverage sees this test reach perEntity (the module-level `limits` is built at import).
    const own = fresh();
    const entities = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Item { heavy } } }';
    expect(codes(own.prepare(entities, undefined, { r: [{}] }))).toBe('ok');
    expect(codes(own.prepare('{ items { heavy } }', undefined, undefined))).toEqual(['QUERY_TOO_COSTLY']);
  });
});
