import { Registry } from 'prom-client';
import { SubgraphUnavailableError } from '../../../../gateway/datasource/errors';
import type { HttpClient, HttpResponse } from '../../../../gateway/datasource/httpClient';
import type { OutlierSettings } from '../../../../gateway/datasource/outlierDetector';
import type { RetryBudgetSettings } from '../../../../gateway/datasource/retryBudget';
import { SubgraphClient, type SubgraphCall } from '../../../../gateway/datasource/subgraphClient';
import { GatewayMetrics } from '../../../../gateway/observability/metrics';
import { InstanceDirectory } from '../../../../gateway/supergraph/instances';
import type { ServiceInstance } from '@trellis/kit';
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from '@trellis/kit/internal/resilience';
import { recordingLogger } from '../../../support/recordingLogger';

type Reply = HttpResponse | Error | 'hang';

/** Stands in for the undici pool: answers by URL and remembers every call. */
class FakeHttp {
  readonly calls: Array<{ url: string; body: string; headers: Record<string, string>; signal: AbortSignal }> = [];
  constructor(private readonly answer: (url: string, attempt: number) => Reply) {}

  async postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse> {
    this.calls.push({ url, body, headers, signal });
    const reply = this.answer(url, this.calls.length);
    if (reply === 'hang') return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    if (reply instanceof Error) throw reply;
    return reply;
  }
}

const instance = (id: string, healthy = true): ServiceInstance => ({ id, name: 'catalog', url: `http://${id}.test/graphql`, meta: {}, healthy });
const query: SubgraphCall = { body: '{"query":"{ products { id } }"}', headers: { authorization: 'Bearer u1' }, retryable: true };
const mutation: SubgraphCall = { ...query, body: '{"query":"mutation { buy }"}', retryable: false };
const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const ok = (text = '{"data":{"ok":true}}'): HttpResponse => ({ status: 200, text });

interface Setup {
  instances?: ServiceInstance[];
  answer: (url: string, attempt: number) => Reply;
  breaker?: Partial<BreakerSettings>;
  outliers?: Partial<OutlierSettings>;
  retryBudget?: Partial<RetryBudgetSettings>;
}

describe('SubgraphClient', () => {
  let now = 0;
  const clients: SubgraphClient[] = [];
  beforeEach(() => {
    now = 0;
    // Equal loads then keep the first sample: the first healthy instance listed is tried first.
    jest.spyOn(Math, 'random').mockReturnValue(0);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    for (const client of clients.splice(0)) client.breaker.shutdown();
  });

  function setup({ instances = [instance('a'), instance('b')], answer, breaker, outliers, retryBudget }: Setup) {
    const directory = new InstanceDirectory();
    directory.replace(instances);
    const http = new FakeHttp(answer);
    const metrics = new GatewayMetrics(new Registry());
    const { logger, lines } = recordingLogger();
    const client = new SubgraphClient({
      name: 'catalog',
      instances: directory,
      http: http as unknown as HttpClient,
      breaker: { ...DEFAULT_BREAKER_SETTINGS, volumeThreshold: 1000, ...breaker },
      outliers: { consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 8000, maxEjectedFraction: 0.5, ...outliers },
      retryBudget: { ratio: 0.1, minRetriesPerWindow: 3, windowMs: 10_000, ...retryBudget },
      metrics,
      logger,
      now: () => now,
    });
    clients.push(client);
    return { client, http, metrics, lines, directory, urls: () => http.calls.map((call) => call.url.replace(/^http:\/\/|\.test\/graphql$/g, '')) };
  }

  /** Every sample of a metric as `labels=value`, so a test asserts the whole set (a missing one is not a zero). */
  async function samples(metric: { get(): Promise<{ values: Array<{ labels: object; value: number; metricName?: string }> }> }, suffix?: string) {
    const { values } = await metric.get();
    return values
      .filter((sample) => suffix === undefined || sample.metricName?.endsWith(suffix))
      .map((sample) => `${JSON.stringify(sample.labels)}=${sample.value}`)
      .sort();
  }

  async function failure(promise: Promise<unknown>): Promise<SubgraphUnavailableError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SubgraphUnavailableError);
    return error as SubgraphUnavailableError;
  }

  it('sends the body and headers to a healthy instance and answers its text', async () => {
    const { client, http, metrics } = setup({ instances: [instance('down', false), instance('a')], answer: () => ok('{"data":1}') });
    await expect(client.send(query)).resolves.toBe('{"data":1}');
    expect(http.calls).toEqual([{ url: 'http://a.test/graphql', body: query.body, headers: query.headers, signal: expect.any(AbortSignal) }]);
    expect(await samples(metrics.subgraphFetchDuration, '_count')).toEqual(['{"subgraph":"catalog","outcome":"success"}=1']);
    expect(await samples(metrics.subgraphFetchErrors)).toEqual([]);
    expect(await samples(metrics.ejectedInstances)).toEqual(['{"subgraph":"catalog"}=0']);
  });

  it('fails with no_instance when the subgraph has no registered instance', async () => {
    const { client, http, metrics } = setup({ instances: [{ ...instance('a'), name: 'users' }], answer: () => ok() });
    const error = await failure(client.send(query));
    expect(error.reason).toBe('no_instance');
    expect(error.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'catalog' });
    expect(http.calls).toHaveLength(0);
    expect(await samples(metrics.subgraphFetchErrors)).toEqual(['{"subgraph":"catalog","reason":"no_instance"}=1']);
  });

  it('with no healthy instance, sends to the registered ones (a failed readiness check is not a dead instance), counted and logged once', async () => {
    const { client, urls, metrics, lines, directory } = setup({ instances: [instance('a', false), instance('b', false)], answer: (url) => (url.includes('//a.') ? refused() : ok('{"data":"b"}')) });
    await expect(client.send(query)).resolves.toBe('{"data":"b"}');
    expect(urls()).toEqual(['a', 'b']);
    await expect(client.send(query)).resolves.toBe('{"data":"b"}');
    expect(await samples(metrics.subgraphPanicFetches)).toEqual(['{"subgraph":"catalog"}=2']);
    const panicLines = () => lines.filter((line) => line.msg.includes('passes its readiness check'));
    expect(panicLines()).toEqual([expect.objectContaining({ level: 'warn', subgraph: 'catalog', instances: 2, msg: 'no instance of subgraph catalog passes its readiness check; sending to the registered ones' })]);

    // One healthy again: fetches go to it alone, uncounted, and the log says so once.
    directory.replace([instance('a', false), instance('b')]);
    await expect(client.send(query)).resolves.toBe('{"data":"b"}');
    await expect(client.send(query)).resolves.toBe('{"data":"b"}');
    expect(urls()).toEqual(['a', 'b', 'a', 'b', 'b', 'b']);
    expect(await samples(metrics.subgraphPanicFetches)).toEqual(['{"subgraph":"catalog"}=2']);
    expect(lines.filter((line) => line.msg === 'subgraph catalog has a healthy instance again')).toHaveLength(1);

    // None healthy again: a new episode, logged again.
    directory.replace([instance('b', false)]);
    await expect(client.send(query)).resolves.toBe('{"data":"b"}');
    expect(panicLines()).toHaveLength(2);
  });

  it('prefers a healthy instance to every registered one that fails its check', async () => {
    const { client, urls, metrics } = setup({ instances: [instance('a', false), instance('b', false), instance('c')], answer: () => ok() });
    for (let k = 0; k < 4; k += 1) await client.send(query);
    expect(urls()).toEqual(['c', 'c', 'c', 'c']);
    expect(await samples(metrics.subgraphPanicFetches)).toEqual([]);
  });

  it('retries a query that could not connect once, on another instance', async () => {
    const { client, metrics, urls } = setup({ answer: (url) => (url.includes('//a.') ? refused() : ok('{"data":"b"}')) });
    await expect(client.send(query)).resolves.toBe('{"data":"b"}');
    expect(urls()).toEqual(['a', 'b']);
    expect(await samples(metrics.subgraphRetries)).toEqual(['{"subgraph":"catalog","outcome":"retried"}=1']);
    expect(await samples(metrics.subgraphFetchErrors)).toEqual(['{"subgraph":"catalog","reason":"connection_failed"}=1']);
    expect(await samples(metrics.subgraphFetchDuration, '_count')).toEqual([
      '{"subgraph":"catalog","outcome":"failure"}=1',
      '{"subgraph":"catalog","outcome":"success"}=1',
    ]);
  });

  it('retries at most once, and ends with the connection error', async () => {
    const { client, urls } = setup({ instances: [instance('a'), instance('b'), instance('c')], answer: () => refused() });
    const error = await failure(client.send(query));
    expect(error.reason).toBe('connection_failed');
    expect(error.message).toContain('ECONNREFUSED');
    expect(urls()).toEqual(['a', 'b']);
  });

  it('never retries a mutation', async () => {
    const { client, urls, metrics } = setup({ answer: (url) => (url.includes('//a.') ? refused() : ok()) });
    expect((await failure(client.send(mutation))).reason).toBe('connection_failed');
    expect(urls()).toEqual(['a']);
    expect(await samples(metrics.subgraphRetries)).toEqual([]);
  });

  it('never retries a mutation that got a 5xx either', async () => {
    const { client, urls } = setup({ answer: () => ({ status: 502, text: 'Bad Gateway' }) });
    expect((await failure(client.send(mutation))).reason).toBe('bad_response');
    expect(urls()).toEqual(['a']);
  });

  it('takes a 5xx without a GraphQL body as a bad response and retries the query elsewhere', async () => {
    const { client, urls, metrics } = setup({ answer: (url) => (url.includes('//a.') ? { status: 500, text: 'Internal Server Error' } : ok('{"data":"b"}')) });
    await expect(client.send(query)).resolves.toBe('{"data":"b"}');
    expect(urls()).toEqual(['a', 'b']);
    expect(await samples(metrics.subgraphFetchErrors)).toEqual(['{"subgraph":"catalog","reason":"bad_response"}=1']);
  });

  it('names the HTTP status of a bad response', async () => {
    const { client } = setup({ instances: [instance('a')], answer: () => ({ status: 503, text: '' }) });
    const error = await failure(client.send(query));
    expect(error.reason).toBe('bad_response');
    expect(error.message).toBe('subgraph catalog is unavailable: bad response (HTTP 503)');
  });

  it('passes on a 5xx that carries a GraphQL body, and anything below 500, as the subgraph working', async () => {
    const graphqlError = '{"errors":[{"message":"boom"}]}';
    const { client, urls } = setup({ answer: (_url, attempt) => (attempt === 1 ? { status: 500, text: graphqlError } : { status: 499, text: 'not json' }) });
    await expect(client.send(query)).resolves.toBe(graphqlError);
    await expect(client.send(query)).resolves.toBe('not json');
    expect(urls()).toEqual(['a', 'a']);
  });

  it('aborts the request at the deadline, answers timeout, and neither retries nor counts it against the instance', async () => {
    const { client, http, metrics, lines } = setup({ breaker: { timeoutMs: 30 }, outliers: { consecutiveFailures: 1 }, answer: () => 'hang' });
    const error = await failure(client.send(query));
    expect(error.reason).toBe('timeout');
    expect(error.message).toContain('no answer within 30 ms');
    expect(http.calls).toHaveLength(1);
    expect(http.calls[0].signal.aborted).toBe(true);
    expect(await samples(metrics.subgraphFetchErrors)).toEqual(['{"subgraph":"catalog","reason":"timeout"}=1']);
    expect(await samples(metrics.ejectedInstances)).toEqual(['{"subgraph":"catalog"}=0']);
    expect(lines.filter((line) => line.msg.includes('ejected'))).toEqual([]);
  });

  it('does not retry once the retry budget is spent, and counts that', async () => {
    const { client, urls, metrics } = setup({ retryBudget: { ratio: 0, minRetriesPerWindow: 0 }, answer: (url) => (url.includes('//a.') ? refused() : ok()) });
    expect((await failure(client.send(query))).reason).toBe('connection_failed');
    expect(urls()).toEqual(['a']);
    expect(await samples(metrics.subgraphRetries)).toEqual(['{"subgraph":"catalog","outcome":"budget_spent"}=1']);
  });

  it('spends the retry budget: the floor of retries, then none', async () => {
    const { client, metrics } = setup({ retryBudget: { ratio: 0, minRetriesPerWindow: 2 }, answer: (url) => (url.includes('//a.') ? refused() : ok()), outliers: { consecutiveFailures: 100 } });
    for (let i = 0; i < 2; i++) await expect(client.send(query)).resolves.toBeDefined();
    await failure(client.send(query));
    expect(await samples(metrics.subgraphRetries)).toEqual([
      '{"subgraph":"catalog","outcome":"budget_spent"}=1',
      '{"subgraph":"catalog","outcome":"retried"}=2',
    ]);
  });

  it('has no one to retry on when the subgraph has one instance', async () => {
    const { client, urls, metrics } = setup({ instances: [instance('a')], answer: () => refused() });
    await failure(client.send(query));
    expect(urls()).toEqual(['a']);
    expect(await samples(metrics.subgraphRetries)).toEqual([]);
  });

  it('ejects an instance after consecutive failures, sends elsewhere while it is out, and takes it back after', async () => {
    const { client, urls, metrics, lines } = setup({ answer: (url) => (url.includes('//a.') ? refused() : ok()) });
    await client.send(query);
    expect(lines.filter((line) => line.msg.includes('ejected'))).toEqual([]);
    await client.send(query);
    expect(lines.filter((line) => line.msg.includes('ejected'))).toEqual([
      expect.objectContaining({ level: 'warn', subgraph: 'catalog', instance: 'a', msg: 'instance ejected after consecutive failures' }),
    ]);
    expect(await samples(metrics.ejectedInstances)).toEqual(['{"subgraph":"catalog"}=1']);
    await client.send(query);
    expect(urls()).toEqual(['a', 'b', 'a', 'b', 'b']);
    now = 1000;
    await client.send(query);
    expect(urls().slice(5)).toEqual(['a', 'b']);
  });

  it('a success between failures keeps the instance in', async () => {
    let aFails = true;
    const { client, lines } = setup({ answer: (url) => (url.includes('//a.') && aFails ? refused() : ok()) });
    await client.send(query);
    aFails = false;
    await client.send(query);
    aFails = true;
    await client.send(query);
    expect(lines.filter((line) => line.msg.includes('ejected'))).toEqual([]);
  });

  it('forgets the ejection of an instance that left discovery', async () => {
    const { client, urls, directory } = setup({ answer: (url, attempt) => (url.includes('//a.') && attempt <= 4 ? refused() : ok()) });
    await client.send(query);
    await client.send(query); // a ejected until 1000
    directory.replace([instance('b')]);
    directory.replace([instance('a'), instance('b')]);
    await client.send(query);
    expect(urls().slice(4)).toEqual(['a']);
  });

  it('fails fast with breaker_open once the breaker opens, without calling the subgraph', async () => {
    const { client, http, metrics } = setup({
      instances: [instance('a')],
      breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 },
      answer: () => refused(),
    });
    expect((await failure(client.send(query))).reason).toBe('connection_failed');
    const error = await failure(client.send(query));
    expect(error.reason).toBe('breaker_open');
    expect(error.message).toBe('subgraph catalog is unavailable: breaker open');
    expect(http.calls).toHaveLength(1);
    expect(await samples(metrics.subgraphFetchErrors)).toEqual([
      '{"subgraph":"catalog","reason":"breaker_open"}=1',
      '{"subgraph":"catalog","reason":"connection_failed"}=1',
    ]);
  });

  it('turns any other breaker refusal into connection_failed with its message', async () => {
    const { client } = setup({ answer: () => ok() });
    client.breaker.shutdown();
    const error = await failure(client.send(query));
    expect(error.reason).toBe('connection_failed');
    expect(error.message).toContain('The circuit has been shutdown.');
  });

  it('earns retries from the requests it sends: at a ratio of 1 and no floor, one request buys one retry', async () => {
    const { client, urls } = setup({ retryBudget: { ratio: 1, minRetriesPerWindow: 0 }, answer: (url) => (url.includes('//a.') ? refused() : ok()) });
    await expect(client.send(query)).resolves.toBeDefined();
    expect(urls()).toEqual(['a', 'b']);
  });

  it('sends concurrent calls to the less loaded instance', async () => {
    const held: Array<() => void> = [];
    const directory = new InstanceDirectory();
    directory.replace([instance('a'), instance('b')]);
    const http = {
      calls: [] as string[],
      postJson(url: string): Promise<HttpResponse> {
        this.calls.push(url);
        return new Promise((resolve) => held.push(() => resolve(ok())));
      },
    };
    const client = new SubgraphClient({
      name: 'catalog',
      instances: directory,
      http: http as unknown as HttpClient,
      breaker: { ...DEFAULT_BREAKER_SETTINGS, volumeThreshold: 1000 },
      outliers: { consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 8000, maxEjectedFraction: 0.5 },
      retryBudget: { ratio: 0.1, minRetriesPerWindow: 3, windowMs: 10_000 },
      logger: recordingLogger().logger,
      now: () => now,
    });
    clients.push(client);
    const first = client.send(query);
    const second = client.send(query);
    while (http.calls.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(http.calls).toEqual(['http://a.test/graphql', 'http://b.test/graphql']);
    for (const release of held) release();
    await Promise.all([first, second]);
    // Both released: equal loads again, so the first instance is chosen.
    const third = client.send(query);
    while (http.calls.length < 3) await new Promise((resolve) => setImmediate(resolve));
    held[2]();
    await third;
    expect(http.calls[2]).toBe('http://a.test/graphql');
  });

  it('measures each fetch in seconds, from sending to answer', async () => {
    const clock = [1000, 1250];
    jest.spyOn(performance, 'now').mockImplementation(() => clock.shift() ?? 9999);
    const { client, metrics } = setup({ instances: [instance('a')], answer: () => ok() });
    await client.send(query);
    expect(await samples(metrics.subgraphFetchDuration, '_sum')).toEqual(['{"subgraph":"catalog","outcome":"success"}=0.25']);
  });
});
