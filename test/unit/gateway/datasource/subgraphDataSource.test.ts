/** The data source: the headers its subgraph's rules select, one shared call for identical queries, none for mutations, a clear error for a non-JSON answer. */
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { SubgraphDataSource } from '../../../../gateway/datasource/subgraphDataSource';
import { SubgraphUnavailableError } from '../../../../gateway/datasource';
import type { SubgraphAnswer, SubgraphClient, SubgraphCall } from '../../../../gateway/datasource/subgraphClient';
import { InflightDedup } from '../../../../gateway/datasource/inflightDedup';
import { SubgraphHeaders } from '../../../../gateway/headers';
import { DEFAULT_HEADER_RULES } from '@trellis/kit/internal/config';
import type { GatewayContext } from '../../../../gateway/context';

/** A client whose calls wait until released, so two can be in flight at once. */
function heldClient(answer = '{"data":{"ok":true}}') {
  const calls: SubgraphCall[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const client = { answer: async (call: SubgraphCall) => (calls.push(call), await released, { text: answer }) } as unknown as SubgraphClient;
  return { client, calls, release };
}

const headers = new SubgraphHeaders({ all: DEFAULT_HEADER_RULES, subgraphs: { catalog: { request: [{ remove: { named: 'authorization' } }] } } });
const context = (forwardHeaders: Record<string, string>, correlationId = 'corr'): Partial<GatewayContext> => ({ forwardHeaders, correlationId });
const request = (query: string, variables: Record<string, unknown> = {}) =>
  ({ request: { query, variables }, context: context({ authorization: 'Bearer u1', traceparent: 'tp' }) }) as unknown as GraphQLDataSourceProcessOptions<GatewayContext>;

describe('SubgraphDataSource', () => {
  it("sends the subgraph's own headers, the correlation id, and the request as JSON", async () => {
    const { client, calls, release } = heldClient();
    release();
    const users = new SubgraphDataSource('users', client, headers);
    const catalog = new SubgraphDataSource('catalog', client, headers);
    expect(await users.process(request('{ ok }', { a: 1 }))).toEqual({ data: { ok: true } });
    await catalog.process(request('{ ok }'));
    expect(calls[0]).toEqual({ body: JSON.stringify({ query: '{ ok }', variables: { a: 1 } }), headers: { authorization: 'Bearer u1', traceparent: 'tp', 'x-correlation-id': 'corr' }, retryable: true });
    expect(calls[1].headers).toEqual({ traceparent: 'tp', 'x-correlation-id': 'corr' });
  });

  it('sends an operation with no query text as a query', async () => {
    const { client, calls, release } = heldClient();
    release();
    await new SubgraphDataSource('users', client, headers).process({ request: {}, context: {} } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);
    expect(calls[0].retryable).toBe(true);
  });

  it('works on a context with no forwarded headers', async () => {
    const { client, calls, release } = heldClient();
    release();
    await new SubgraphDataSource('users', client, headers).process({ request: { query: '{ ok }' }, context: {} } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);
    expect(calls[0].headers).toEqual({});
  });

  it('answers identical queries in flight with one call, counting the shared one', async () => {
    const { client, calls, release } = heldClient();
    const deduped: string[] = [];
    const metrics = { dedupedFetches: { inc: ({ subgraph }: { subgraph: string }) => deduped.push(subgraph) } };
    const source = new SubgraphDataSource('users', client, headers, new InflightDedup<SubgraphAnswer>(), metrics as never);
    const both = Promise.all([source.process(request('{ ok }')), source.process(request('{ ok }'))]);
    release();
    expect(await both).toEqual([{ data: { ok: true } }, { data: { ok: true } }]);
    expect(calls).toHaveLength(1);
    expect(deduped).toEqual(['users']);
  });

  it('sends every mutation, never shared and never retried', async () => {
    const { client, calls, release } = heldClient();
    const source = new SubgraphDataSource('users', client, headers, new InflightDedup<SubgraphAnswer>());
    const both = Promise.all([source.process(request('  mutation { ok }')), source.process(request('mutation { ok }'))]);
    release();
    await both;
    expect(calls.map((call) => call.retryable)).toEqual([false, false]);
  });

  it('treats a field named like mutation in a query as a query', async () => {
    const { client, calls, release } = heldClient();
    release();
    await new SubgraphDataSource('users', client, headers).process(request('{ mutationCount }'));
    await new SubgraphDataSource('users', client, headers).process(request('query { x } # mutation'));
    expect(calls.map((call) => call.retryable)).toEqual([true, true]);
  });

  it('shares nothing when deduplication is off', async () => {
    const { client, calls, release } = heldClient();
    const source = new SubgraphDataSource('users', client, headers);
    const both = Promise.all([source.process(request('{ ok }')), source.process(request('{ ok }'))]);
    release();
    await both;
    expect(calls).toHaveLength(2);
  });

  it('refuses an answer that is not JSON as SUBGRAPH_UNAVAILABLE bad_response', async () => {
    const { client, release } = heldClient('<html>oops</html>');
    release();
    const error = await new SubgraphDataSource('users', client, headers).process(request('{ ok }')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubgraphUnavailableError);
    expect(error).toMatchObject({ subgraph: 'users', reason: 'bad_response', message: 'subgraph users is unavailable: bad response (the answer is not JSON)' });
  });

  it('answers an unavailable entity fetch with one error per representation at _entities.<i>, and still throws for a root fetch', async () => {
    const down = { answer: async () => Promise.reject(new SubgraphUnavailableError('catalog', 'connection_failed')) } as unknown as SubgraphClient;
    const source = new SubgraphDataSource('catalog', down, headers);
    const representations = [{ __typename: 'Product', id: 'p1' }, { __typename: 'Product', id: 'p2' }];
    const answer = await source.process(request('query($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}', { representations }));
    const extensions = { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'catalog', reason: 'connection_failed' };
    expect(answer).toEqual({
      data: { _entities: [null, null] },
      errors: [0, 1].map((index) => ({ message: 'subgraph catalog is unavailable: connection failed', path: ['_entities', index], extensions })),
    });
    await expect(source.process(request('{ products { name } }'))).rejects.toBeInstanceOf(SubgraphUnavailableError);
  });
});
