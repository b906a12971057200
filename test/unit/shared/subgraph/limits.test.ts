import { parse } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { Request, Response } from 'express';
import { loadConfig } from '../../../../shared/config';
import { subgraphLimits } from '../../../../shared/subgraph/limits';

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
