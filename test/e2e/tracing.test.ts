/**
 * docs/observability.md's "See a trace": the platform started as `npm start` on the real servers with
 * OTEL_EXPORTER_OTLP_ENDPOINT at the real Jaeger of test/stack. A four-subgraph query is one trace
 * from the caller through the gateway into every subgraph; a placeOrder saga is one trace from the
 * mutation through every command and reply, across the orchestrator and the three participants, to
 * the final status event the gateway delivers to the client's subscription.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { postGraphQL } from '../support/graphql';
import { platformToken } from '../support/identity';
import { ancestors, clientTraceparent, expectTrace, jaeger, type TraceSpan } from '../support/jaeger';
import { startPlatform, type RunningPlatform } from '../support/platform';

const SUBGRAPHS = ['users', 'orders', 'catalog', 'payments'];

const named = (spans: TraceSpan[], service: string, name: string) => spans.filter((span) => span.service === service && span.name === name);

describe('traces in Jaeger', () => {
  let platform: RunningPlatform;

  beforeAll(async () => {
    // docs/observability.md's first step, as written: a no-op when the stack's Jaeger (or JAEGER_QUERY_URL's) already runs.
    execFileSync('test/stack/up', ['jaeger'], { cwd: path.join(__dirname, '..', '..'), stdio: 'ignore', timeout: 90_000 });
    const services = await fetch(`${jaeger.queryUrl}/api/services`);
    if (!services.ok) throw new Error(`Jaeger's query API at ${jaeger.queryUrl} answered ${services.status}; start it with test/stack/up jaeger`);
    // A short batch delay so a test waits on seconds of export, not the default 5 s per hop.
    platform = await startPlatform({ backends: 'real', env: { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl, OTEL_BSP_SCHEDULE_DELAY: '200' } });
  }, 120_000);
  afterAll(async () => {
    expect(await platform.stop()).toBe(0);
  });

  it('shows a four-subgraph query as one trace: the caller, the gateway, each fetch, and every subgraph under its fetch', async () => {
    const { traceId, spanId, traceparent } = clientTraceparent();
    const token = await platformToken(platform.base, 'u1', ['payments:read']);
    const { body } = await postGraphQL(platform.gatewayUrl, 'query FourSubgraphs { user(id: "u1") { name orders { total items { product { name inStock } } payment { state } } } }', {
      headers: { authorization: `Bearer ${token}`, traceparent },
    });
    expect(body.errors).toBeUndefined();

    // Every assertion on the trace is made while polling Jaeger: each process exports its spans on its own schedule.
    const checkTrace = (spans: TraceSpan[], callerSpanId: string, cacheHit: boolean) => {
      const requests = named(spans, 'gateway', 'POST /graphql');
      expect(requests).toHaveLength(1);
      const [request] = requests;
      expect(request.parentId).toBe(callerSpanId);
      expect(request.kind).toBe('server');
      expect(request.tags).toMatchObject({ 'graphql.operation.name': 'FourSubgraphs', 'graphql.operation.type': 'query', 'trellis.graphql.outcome': 'success' });
      expect(request.tags['graphql.document.hash']).toMatch(/^[0-9a-f]{64}$/);
      if (!cacheHit) expect(named(spans, 'gateway', 'graphql.parse')[0]?.parentId).toBe(request.spanId);

      for (const subgraph of SUBGRAPHS) {
        const fetches = named(spans, 'gateway', `fetch ${subgraph}`);
        expect(fetches.length).toBeGreaterThan(0);
        for (const fetch of cacheHit ? [] : fetches) expect(ancestors(fetch, spans)).toContain(request);
        // Each request the subgraph served is the child of one attempt of the gateway, under a fetch of that subgraph.
        const served = named(spans, subgraph, 'POST /graphql');
        expect([subgraph, served.length > 0]).toEqual([subgraph, true]);
        for (const one of cacheHit ? [] : served) {
          const [attempt, fetch] = ancestors(one, spans);
          expect(attempt).toMatchObject({ service: 'gateway', name: `POST ${subgraph}`, kind: 'client' });
          expect(attempt.tags).toMatchObject({ 'trellis.subgraph.name': subgraph, 'trellis.fetch.attempt': 1, 'trellis.breaker.state': 'closed', 'http.response.status_code': 200 });
          expect(attempt.tags['trellis.subgraph.instance']).toEqual(expect.any(String));
          expect(fetch).toMatchObject({ service: 'gateway', name: `fetch ${subgraph}` });
          expect(fetch.tags['trellis.fetch.deduplicated']).toBe(false);
        }
      }
      if (cacheHit) expect(named(spans, 'gateway', 'gateway.fetch').length).toBeGreaterThan(0);
      // The first run plans the query (a miss); the same query again takes the cached plan (a hit).
      expect(named(spans, 'gateway', 'gateway.plan').map((span) => span.tags['trellis.plan.cache_hit'])).toEqual([cacheHit]);
    };
    await expectTrace(traceId, (spans) => checkTrace(spans, spanId, false));

    const again = clientTraceparent();
    await postGraphQL(platform.gatewayUrl, 'query FourSubgraphs { user(id: "u1") { name orders { total items { product { name inStock } } payment { state } } } }', {
      headers: { authorization: `Bearer ${token}`, traceparent: again.traceparent },
    });
    await expectTrace(again.traceId, (spans) => checkTrace(spans, again.spanId, true));
  });

  it("runs docs/observability.md's 'read that trace back' commands as written: they print the query's spans from the gateway and the catalog", async () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'observability.md'), 'utf8');
    const section = doc.slice(doc.indexOf('send a query in a trace of your own'));
    const script = /```bash\n([\s\S]*?)```/.exec(section)![1];
    expect(script).toContain('http://localhost:4000/graphql');
    // The test platform's gateway is on its own port; everything else runs as the guide shows it.
    const output = execFileSync('bash', ['-euo', 'pipefail', '-c', script.replaceAll('http://localhost:4000/', `${new URL(platform.gatewayUrl).origin}/`)], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 30_000 });
    expect(output).toContain('{"data":{"product":{"name":');
    const spans = output.split('\n').filter((line) => /^\S+ \S/.test(line) && !line.startsWith('{'));
    expect(spans).toEqual(expect.arrayContaining(['gateway POST /graphql', 'gateway gateway.plan', 'gateway fetch catalog', 'gateway POST catalog', 'catalog POST /graphql']));
  });

  it("shows a web BFF page as one trace: the page, its gateway call, and the gateway's request under it", async () => {
    const { traceId, spanId, traceparent } = clientTraceparent();
    const page = await fetch(`http://127.0.0.1:${platform.base + 100}/api/pages/home`, { headers: { traceparent } });
    expect(page.status).toBe(200);
    await expectTrace(traceId, (spans) => {
      const pages = named(spans, 'web-bff', 'GET /api/pages/home');
      expect(pages).toHaveLength(1);
      const [request] = pages;
      expect(request).toMatchObject({ parentId: spanId, kind: 'server' });
      const gatewayRequests = named(spans, 'gateway', 'POST /graphql');
      expect(gatewayRequests.length).toBeGreaterThan(0);
      expect(named(spans, 'catalog', 'POST /graphql').length).toBeGreaterThan(0);
      for (const served of gatewayRequests) {
        const [call] = ancestors(served, spans);
        expect(call).toMatchObject({ service: 'web-bff', kind: 'client' });
        expect(call.name).toMatch(/^POST gateway/);
        expect(ancestors(call, spans)).toContain(request);
      }
    });
  });

  it('shows one placeOrder saga as one trace: the mutation, every command and reply produced and consumed across the processes, and the final subscription event', async () => {
    const { traceId, spanId, traceparent } = clientTraceparent();
    const headers = { authorization: `Bearer ${await platformToken(platform.base, 'u1')}` };
    const { body } = await postGraphQL<{ placeOrder: { sagaId: string } }>(
      platform.gatewayUrl,
      'mutation PlaceOrder { placeOrder(input: { items: [{ productId: "p2", quantity: 1 }], paymentMethod: "card-ok" }) { sagaId } }',
      { headers: { ...headers, traceparent } },
    );
    expect(body.errors).toBeUndefined();
    const id = body.data!.placeOrder.sagaId;
    // The client watches the saga in a request (and trace) of its own, over graphql-ws to the gateway.
    const watch = clientTraceparent();
    const client = createClient({ url: platform.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { headers: { ...headers, traceparent: watch.traceparent } } });
    const states: string[] = [];
    try {
      for await (const result of client.iterate<{ sagaStatus: { state: string } }>({ query: `subscription WatchSaga { sagaStatus(id: "${id}") { state } }` })) {
        expect(result.errors).toBeUndefined();
        states.push(result.data!.sagaStatus.state);
      }
    } finally {
      await client.dispose();
    }
    expect(states.at(-1)).toBe('COMPLETED');

    const participants = ['catalog', 'payments', 'orders'];
    const kinds = (seen: TraceSpan[], service: string, kind: string) => seen.filter((span) => span.service === service && span.kind === kind && span.tags['messaging.system'] === 'kafka');
    const sentStatus = (seen: TraceSpan[]) => seen.filter((span) => span.service === 'sagas' && span.kind === 'producer' && span.tags['trellis.saga.state'] === 'COMPLETED');
    const delivered = (seen: TraceSpan[]) => seen.filter((span) => span.service === 'gateway' && span.name === 'subscription event' && sentStatus(seen).some((sent) => sent.spanId === span.parentId));
    const final = await expectTrace(traceId, (spans) => {
      expect(named(spans, 'sagas', 'POST /graphql')).toHaveLength(1);
      expect(kinds(spans, 'sagas', 'producer').length).toBeGreaterThanOrEqual(3);
      expect(kinds(spans, 'sagas', 'consumer').length).toBeGreaterThanOrEqual(3);
      expect(delivered(spans)).toHaveLength(1);
      // The caller's request; the sagas subgraph's catalog lookup through the gateway is a second one, deeper in.
      const gatewayRequest = named(spans, 'gateway', 'POST /graphql').find((span) => span.parentId === spanId)!;
      expect(gatewayRequest).toBeDefined();
      expect(gatewayRequest.tags).toMatchObject({ 'graphql.operation.name': 'PlaceOrder', 'graphql.operation.type': 'mutation' });
      const [mutation] = named(spans, 'sagas', 'POST /graphql');
      expect(ancestors(mutation, spans)).toContain(gatewayRequest);

      const byId = new Map(spans.map((span) => [span.spanId, span]));
      const messaging = spans.filter((span) => span.tags['messaging.system'] === 'kafka');
      for (const consumed of messaging.filter((span) => span.kind === 'consumer')) {
        // Each handled message continues the span that sent it, whichever process that was.
        const producer = byId.get(consumed.parentId ?? '');
        expect(producer).toMatchObject({ kind: 'producer', tags: expect.objectContaining({ 'messaging.destination.name': consumed.tags['messaging.destination.name'] }) });
        expect(consumed.name).toBe(`process ${consumed.tags['messaging.destination.name']}`);
      }
      // The orchestrator's commands continue the mutation (through the saga record), not a stray trace.
      for (const command of kinds(spans, 'sagas', 'producer')) expect(ancestors(command, spans)).toContain(mutation);
      // Every step: its command sent by the orchestrator and handled by the participant, its reply sent
      // by the participant (while handling that command) and handled by the orchestrator.
      for (const participant of participants) {
        const topic = `saga.commands.${participant}`;
        const command = kinds(spans, 'sagas', 'producer').find((span) => span.tags['messaging.destination.name'] === topic);
        expect(command).toMatchObject({ name: `send ${topic}`, tags: expect.objectContaining({ 'messaging.kafka.message.key': id }) });
        const handled = kinds(spans, participant, 'consumer').find((span) => span.parentId === command!.spanId);
        expect(handled).toMatchObject({ name: `process ${topic}` });
        const reply = kinds(spans, participant, 'producer').find((span) => ancestors(span, spans).includes(handled!));
        expect(reply).toMatchObject({ name: 'send saga.replies', tags: expect.objectContaining({ 'messaging.kafka.message.key': id }) });
        expect(kinds(spans, 'sagas', 'consumer').find((span) => span.parentId === reply!.spanId)).toMatchObject({ name: 'process saga.replies' });
      }

      // The final event: sent by the sagas subgraph in the saga's trace, delivered by the gateway in it,
      // and linked to the client's subscription, whose own trace continues the client's.
      const [final] = delivered(spans);
      expect(final.tags).toMatchObject({ 'trellis.subscription.event.traced': true, 'graphql.operation.type': 'subscription' });
      const [sent] = sentStatus(spans);
      expect(sent.tags['trellis.saga.id']).toBe(id);
      expect(ancestors(sent, spans)).toContain(mutation);
      return final;
    });
    await expectTrace(watch.traceId, (watched) => {
      const subscriptions = named(watched, 'gateway', 'subscription WatchSaga');
      expect(subscriptions).toHaveLength(1);
      const [subscription] = subscriptions;
      expect(subscription).toMatchObject({ parentId: watch.spanId, kind: 'server', tags: expect.objectContaining({ 'trellis.graphql.outcome': 'success' }) });
      expect(final.links).toEqual([{ traceId: watch.traceId, spanId: subscription.spanId }]);
      expect(named(watched, 'gateway', 'subscribe sagas')).toHaveLength(1);
    });
  });
});
