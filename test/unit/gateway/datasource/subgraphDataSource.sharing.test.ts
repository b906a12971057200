import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Registry } from 'prom-client';
import { SubgraphUnavailableError } from '../../../../gateway/datasource/errors';
import { InflightDedup } from '../../../../gateway/datasource/inflightDedup';
import type { SubgraphAnswer, SubgraphCall, SubgraphClient } from '../../../../gateway/datasource/subgraphClient';
import { SubgraphDataSource } from '../../../../gateway/datasource/subgraphDataSource';
import type { GatewayContext } from '../../../../gateway/context';
import { GatewayMetrics } from '../../../../gateway/observability/metrics';
import { SubgraphHeaders } from '../../../../gateway/headers';
import { DEFAULT_HEADER_RULES } from '@trellis/kit/internal/config';

/** The default rules: what every subgraph receives unless HEADER_RULES says otherwise. */
const headers = new SubgraphHeaders({ all: DEFAULT_HEADER_RULES, subgraphs: {} });

/** A subgraph client whose answers the test releases by hand, so overlapping fetches really overlap. */
class HeldClient {
  readonly calls: SubgraphCall[] = [];
  private readonly pending: Array<(answer: SubgraphAnswer) => void> = [];

  answer(call: SubgraphCall): Promise<SubgraphAnswer> {
    this.calls.push(call);
    return new Promise((resolve) => this.pending.push(resolve));
  }

  answerAll(text: (index: number) => string): void {
    this.pending.splice(0).forEach((resolve, index) => resolve({ text: text(index) }));
  }
}

type Context = Partial<GatewayContext>;
const options = (query: string, context: Context, variables?: Record<string, unknown>, operationName?: string) =>
  ({ request: { query, variables, operationName }, context }) as unknown as GraphQLDataSourceProcessOptions<GatewayContext>;
const alice: Context = { correlationId: 'c-1', forwardHeaders: { authorization: 'Bearer alice', traceparent: 't-1' } };
const aliceAgain: Context = { correlationId: 'c-2', forwardHeaders: { authorization: 'Bearer alice', traceparent: 't-2' } };
const bob: Context = { correlationId: 'c-3', forwardHeaders: { authorization: 'Bearer bob', traceparent: 't-3' } };
const anonymous: Context = { correlationId: 'c-4', forwardHeaders: {} };

async function dedupedCount(metrics: GatewayMetrics): Promise<string[]> {
  const { values } = await metrics.dedupedFetches.get();
  return values.map((sample) => `${sample.labels.subgraph}=${sample.value}`);
}

describe('SubgraphDataSource: what is sent and what is shared, on the default header rules', () => {
  it('sends the query, variables and operation name, the forwarded headers and the correlation id, as a retryable call', async () => {
    const client = new HeldClient();
    const source = new SubgraphDataSource('catalog', client as unknown as SubgraphClient, headers);
    const answer = source.process(options('query Top($n: Int) { top(n: $n) { id } }', alice, { n: 3 }, 'Top'));
    client.answerAll(() => '{"data":{"top":[]}}');
    await expect(answer).resolves.toEqual({ data: { top: [] } });
    expect(client.calls).toEqual([
      {
        body: JSON.stringify({ query: 'query Top($n: Int) { top(n: $n) { id } }', variables: { n: 3 }, operationName: 'Top' }),
        headers: { authorization: 'Bearer alice', traceparent: 't-1', 'x-correlation-id': 'c-1' },
        retryable: true,
      },
    ]);
  });

  it('sends no headers at all for a context without any', async () => {
    const client = new HeldClient();
    const source = new SubgraphDataSource('catalog', client as unknown as SubgraphClient, headers);
    const answer = source.process(options('{ a }', {}));
    client.answerAll(() => '{"data":{}}');
    await answer;
    expect(client.calls[0].headers).toEqual({});
  });

  it.each(['mutation { buy }', '  \n mutation Buy { buy }', 'mutation{buy}'])('sends %j as a mutation: never retried, never shared', async (query) => {
    const client = new HeldClient();
    const metrics = new GatewayMetrics(new Registry());
    const source = new SubgraphDataSource('orders', client as unknown as SubgraphClient, headers, new InflightDedup<SubgraphAnswer>(), metrics);
    const answers = [source.process(options(query, alice)), source.process(options(query, alice))];
    expect(client.calls.map((call) => call.retryable)).toEqual([false, false]);
    client.answerAll((index) => `{"data":{"order":${index}}}`);
    expect(await Promise.all(answers)).toEqual([{ data: { order: 0 } }, { data: { order: 1 } }]);
    expect(await dedupedCount(metrics)).toEqual([]);
  });

  it.each(['query Mutations { mutations }', '{ mutation }', 'query { x } mutation'])('sends %j as a query', async (query) => {
    const client = new HeldClient();
    const source = new SubgraphDataSource('orders', client as unknown as SubgraphClient, headers);
    const answer = source.process(options(query, alice));
    client.answerAll(() => '{"data":{}}');
    await answer;
    expect(client.calls[0].retryable).toBe(true);
  });

  it('shares one fetch between identical queries of the same caller in flight together, and counts the shared ones', async () => {
    const client = new HeldClient();
    const metrics = new GatewayMetrics(new Registry());
    const source = new SubgraphDataSource('catalog', client as unknown as SubgraphClient, headers, new InflightDedup<SubgraphAnswer>(), metrics);
    const answers = [0, 1, 2].map((i) => source.process(options('{ products { id } }', i === 1 ? aliceAgain : alice)));
    expect(client.calls).toHaveLength(1);
    client.answerAll(() => '{"data":{"products":[{"id":"1"}]}}');
    const [first, second, third] = await Promise.all(answers);
    expect(second).toEqual(first);
    // Each caller gets its own copy: the gateway mutates what it receives.
    expect(second).not.toBe(first);
    expect(third).not.toBe(first);
    expect(await dedupedCount(metrics)).toEqual(['catalog=2']);
  });

  it('never shares a fetch between different callers: another Authorization, or none, is its own fetch', async () => {
    const client = new HeldClient();
    const metrics = new GatewayMetrics(new Registry());
    const source = new SubgraphDataSource('catalog', client as unknown as SubgraphClient, headers, new InflightDedup<SubgraphAnswer>(), metrics);
    const answers = [alice, bob, anonymous].map((context) => source.process(options('{ me { id } }', context)));
    expect(client.calls.map((call) => call.headers.authorization)).toEqual(['Bearer alice', 'Bearer bob', undefined]);
    client.answerAll((index) => JSON.stringify({ data: { me: { id: ['alice', 'bob', null][index] } } }));
    expect(await Promise.all(answers)).toEqual([{ data: { me: { id: 'alice' } } }, { data: { me: { id: 'bob' } } }, { data: { me: { id: null } } }]);
    expect(await dedupedCount(metrics)).toEqual([]);
  });

  it('never shares a fetch between different documents, variables, or subgraphs', async () => {
    const client = new HeldClient();
    const dedup = new InflightDedup<SubgraphAnswer>();
    const catalog = new SubgraphDataSource('catalog', client as unknown as SubgraphClient, headers, dedup);
    const users = new SubgraphDataSource('users', client as unknown as SubgraphClient, headers, dedup);
    const answers = [
      catalog.process(options('{ a }', alice)),
      catalog.process(options('{ b }', alice)),
      catalog.process(options('query($n: Int) { a(n: $n) }', alice, { n: 1 })),
      catalog.process(options('query($n: Int) { a(n: $n) }', alice, { n: 2 })),
      users.process(options('{ a }', alice)),
    ];
    expect(client.calls).toHaveLength(5);
    client.answerAll((index) => `{"data":${index}}`);
    expect((await Promise.all(answers)).map((answer) => answer.data)).toEqual([0, 1, 2, 3, 4]);
  });

  it('sends every fetch on its own when dedup is off', async () => {
    const client = new HeldClient();
    const source = new SubgraphDataSource('catalog', client as unknown as SubgraphClient, headers);
    const answers = [source.process(options('{ a }', alice)), source.process(options('{ a }', alice))];
    expect(client.calls).toHaveLength(2);
    client.answerAll(() => '{"data":{}}');
    await Promise.all(answers);
  });

  it('answers an unparseable subgraph reply with bad_response', async () => {
    const client = new HeldClient();
    const source = new SubgraphDataSource('catalog', client as unknown as SubgraphClient, headers, new InflightDedup<SubgraphAnswer>());
    const answer = source.process(options('{ a }', alice));
    client.answerAll(() => '<html>oops</html>');
    const error = await answer.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SubgraphUnavailableError);
    expect(error).toMatchObject({ reason: 'bad_response', subgraph: 'catalog', message: 'subgraph catalog is unavailable: bad response (the answer is not JSON)' });
  });
});
