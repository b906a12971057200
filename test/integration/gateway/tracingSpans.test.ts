/**
 * The gateway's spans beyond the fetches, with tracing on: the limits and authorization checks, the
 * plan with its cache outcome, the request's outcome and error type; and over graphql-ws, SSE and multipart HTTP the
 * operation's server span, the upstream subscription to the owning subgraph (continued by the kit's
 * own subscription span) and a span per event, an event carrying a trace of its own (as a saga's
 * status does) delivered in that trace, linked to the operation.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { tracedEvent, type Subgraph, type SubgraphFactory } from '@trellis/kit';
import { startTelemetry, telemetrySettings } from '@trellis/kit/internal/telemetry';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { FEDERATION_LINK } from '../../../subgraphs/federation';
import { eventually, postGraphQL, postGraphQLSse } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { allMultipartParts, isHeartbeat, postGraphQLMultipart } from '../../support/multipartParts';

const OTEL = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' };
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = (span: string) => `00-${CALLER_TRACE}-${span}-01`;
/** The trace the last tick belongs to (as a saga's status belongs to the saga's trace). */
const ORIGIN_TRACE = 'aaaabbbbccccddddeeeeffff00001111';
const ORIGIN_SPAN = '1234567890abcdef';

const sdl = `
  ${FEDERATION_LINK}
  type Query { tick: Int! }
  type Subscription { ticks(n: Int!): Int! }
`;
const tickerSubgraph: SubgraphFactory = () => ({
  name: 'ticker',
  typeDefs: sdl,
  resolvers: {
    Query: { tick: () => 1 },
    Subscription: {
      ticks: {
        subscribe: async function* (_: unknown, { n }: { n: number }) {
          for (let i = 1; i < n; i++) yield { ticks: i };
          yield tracedEvent({ ticks: n }, { traceparent: `00-${ORIGIN_TRACE}-${ORIGIN_SPAN}-01`, attributes: { 'test.last': true } });
        },
      },
    },
  },
});

const SUBSCRIPTION = 'subscription Ticks { ticks(n: 3) }';

describe('gateway spans with tracing on', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: ReturnType<typeof startTelemetry>;
  let ticker: Subgraph;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    telemetry = startTelemetry(telemetrySettings(OTEL), { serviceName: 'test', exporter });
    ticker = await startSubgraph(tickerSubgraph, OTEL);
    const composed = composeSupergraph([{ name: 'ticker', sdl, url: ticker.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-spans-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    gateway = await startGateway({ SUPERGRAPH_PATH: supergraphPath, MAX_ALIASES: '1', ...OTEL });
  });
  afterAll(async () => {
    await gateway?.stop();
    await ticker?.stop();
    await telemetry.stop();
  });
  beforeEach(() => exporter.reset());

  const inTrace = (traceId: string) => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) => spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);
  const one = (spans: ReadableSpan[], name: string | RegExp) => {
    const found = spans.filter((span) => (typeof name === 'string' ? span.name === name : name.test(span.name)));
    expect(found.map((span) => span.name)).toHaveLength(1);
    return found[0];
  };
  /** Every span of the trace once the request's server span ended (the checks and plan end before it). */
  const traceOf = async (traceId: string, root: string, parentSpanId?: string) => {
    const isRoot = (span: ReadableSpan) => span.name === root && (!parentSpanId || span.parentSpanContext?.spanId === parentSpanId);
    await eventually(async () => expect(inTrace(traceId).some(isRoot)).toBe(true));
    return inTrace(traceId);
  };

  it('on HTTP: the limits and authorization checks and the plan (a miss, then a hit) under the request, which carries its outcome', async () => {
    for (const [attempt, caller] of [['first', '00f067aa0ba902b1'], ['again', '00f067aa0ba902b2']] as const) {
      const { body } = await postGraphQL(gateway.url, 'query Tick { tick }', { headers: { traceparent: CALLER(caller) } });
      expect(body).toEqual({ data: { tick: 1 } });
      const spans = await traceOf(CALLER_TRACE, 'POST /graphql', caller);
      // The gateway's request (the subgraph's, in this same process, is deeper in the trace).
      const request = one(spans.filter((span) => span.parentSpanContext?.spanId === caller), 'POST /graphql');
      expect(request.attributes).toMatchObject({ 'graphql.operation.name': 'Tick', 'graphql.operation.type': 'query', 'trellis.graphql.outcome': 'success' });
      const children = childrenOf(spans, request).map((span) => span.name);
      expect(children).toEqual(expect.arrayContaining(['gateway.limits', 'gateway.auth.authorize']));
      // Parsed and validated once: the same document again comes from Apollo Server's document store.
      expect(children.filter((name) => name === 'graphql.parse' || name === 'graphql.validate')).toEqual(attempt === 'first' ? ['graphql.parse', 'graphql.validate'] : []);
      expect(one(spans, 'gateway.limits').attributes).toMatchObject({ 'trellis.limits.depth': 1, 'trellis.limits.aliases': 0, 'trellis.limits.root_fields': 1 });
      expect(one(spans, 'gateway.auth.authorize').attributes).toMatchObject({ 'trellis.auth.anonymous': true, 'trellis.auth.removed_fields': 0 });
      expect(one(spans, 'gateway.plan').attributes['trellis.plan.cache_hit']).toBe(attempt === 'again');
      exporter.reset();
    }
  });

  it('on HTTP: a refused operation fails its limits span and the request, both naming the error type', async () => {
    const { body } = await postGraphQL(gateway.url, '{ a: tick b: tick }', { headers: { traceparent: CALLER('00f067aa0ba902b3') } });
    expect(body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_ALIASES');
    const spans = await traceOf(CALLER_TRACE, 'POST /graphql');
    const limitsSpan = one(spans, 'gateway.limits');
    expect(limitsSpan.status.code).toBe(2);
    expect(limitsSpan.attributes['error.type']).toBe('TOO_MANY_ALIASES');
    // Refused before planning: no subgraph was called, so the gateway's is the one request span.
    expect(one(spans, 'POST /graphql').attributes).toMatchObject({ 'trellis.graphql.outcome': 'error', 'error.type': 'TOO_MANY_ALIASES' });
    expect(spans.some((span) => span.name === 'gateway.plan')).toBe(false);
  });

  it('on HTTP: a token is checked in gateway.auth.authenticate, whose refusal fails the span', async () => {
    const answer = await postGraphQL(gateway.url, 'query Tick { tick }', { headers: { traceparent: CALLER('00f067aa0ba902b6'), authorization: 'Bearer not-a-jwt' } });
    expect(answer.status).toBe(401);
    const spans = await traceOf(CALLER_TRACE, 'POST /graphql', '00f067aa0ba902b6');
    const authenticate = one(spans, 'gateway.auth.authenticate');
    expect(authenticate.parentSpanContext?.spanId).toBe(one(spans, 'POST /graphql').spanContext().spanId);
    expect(authenticate.status.code).toBe(2);
    expect(authenticate.attributes['error.type']).toEqual(expect.any(String));
    expect(spans.some((span) => span.name === 'gateway.auth.authorize' || span.name === 'gateway.plan')).toBe(false);
  });

  it("over graphql-ws: the operation continues the caller's trace; the upstream subscription, the kit's, and each event are in it, the last event in its own trace", async () => {
    const client = createClient({ url: gateway.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { headers: { traceparent: CALLER('00f067aa0ba902b4') } } });
    const events: unknown[] = [];
    try {
      for await (const result of client.iterate({ query: SUBSCRIPTION })) events.push(result);
    } finally {
      await client.dispose();
    }
    expect(events).toEqual([{ data: { ticks: 1 } }, { data: { ticks: 2 } }, { data: { ticks: 3 } }]);

    const spans = await traceOf(CALLER_TRACE, 'subscription Ticks');
    const operation = one(spans, 'subscription Ticks');
    expect(operation.kind).toBe(1); // SERVER
    expect(operation.parentSpanContext?.spanId).toBe('00f067aa0ba902b4');
    expect(operation.attributes).toMatchObject({ 'graphql.operation.type': 'subscription', 'graphql.operation.name': 'Ticks', 'trellis.graphql.outcome': 'success' });
    expect(childrenOf(spans, operation).map((span) => span.name)).toEqual(expect.arrayContaining(['gateway.limits', 'gateway.auth.authorize', 'gateway.plan', 'subscribe ticker']));
    expect(one(spans, 'gateway.plan').attributes['trellis.plan.cache_hit']).toBe(false);
    const upstream = one(spans, 'subscribe ticker');
    expect(upstream).toMatchObject({ kind: 2, attributes: expect.objectContaining({ 'trellis.subgraph.name': 'ticker' }) });
    // The kit's subscription continues the upstream span (its traceparent came in the operation's extensions.headers).
    const served = one(spans, /^subscription Ticks__ticker__/);
    expect(served.parentSpanContext?.spanId).toBe(upstream.spanContext().spanId);
    const events1and2 = childrenOf(spans, upstream).filter((span) => span.name === 'subscription event');
    expect(events1and2.map((span) => span.attributes['trellis.subscription.event.index'])).toEqual([1, 2]);

    // The last event: sent by the kit in its own trace, delivered by the gateway in it too, linked to the operation.
    const origin = inTrace(ORIGIN_TRACE);
    const sent = one(origin, /^send Ticks__ticker__\S+ event$/);
    expect(sent).toMatchObject({ kind: 3, attributes: { 'test.last': true } });
    expect(sent.parentSpanContext?.spanId).toBe(ORIGIN_SPAN);
    const delivered = one(origin, 'subscription event');
    expect(delivered.parentSpanContext?.spanId).toBe(sent.spanContext().spanId);
    expect(delivered.attributes).toMatchObject({ 'trellis.subscription.event.index': 3, 'trellis.subscription.event.traced': true });
    expect(delivered.links.map((link) => link.context.spanId)).toEqual([operation.spanContext().spanId]);
  });

  it("over SSE: the stream's operation continues the request's trace, and plans from the cache", async () => {
    const { events } = await postGraphQLSse(gateway.url, SUBSCRIPTION, { headers: { traceparent: CALLER('00f067aa0ba902b5') } });
    expect(events.filter((event) => event.event === 'next').map((event) => event.data)).toEqual([{ data: { ticks: 1 } }, { data: { ticks: 2 } }, { data: { ticks: 3 } }]);
    const spans = await traceOf(CALLER_TRACE, 'subscription Ticks');
    expect(one(spans, 'subscription Ticks').parentSpanContext?.spanId).toBe('00f067aa0ba902b5');
    expect(one(spans, 'gateway.plan').attributes['trellis.plan.cache_hit']).toBe(true);
    expect(childrenOf(spans, one(spans, 'subscribe ticker')).filter((span) => span.name === 'subscription event')).toHaveLength(2);
    expect(one(inTrace(ORIGIN_TRACE), 'subscription event').links).toHaveLength(1);
  });

  it("over multipart HTTP: the stream's operation continues the request's trace, with the upstream subscription and its events", async () => {
    const response = await postGraphQLMultipart(gateway.url, SUBSCRIPTION, { headers: { traceparent: CALLER('00f067aa0ba902b6') } });
    const parts = (await allMultipartParts(response)).filter((part) => !isHeartbeat(part));
    expect(parts).toEqual([1, 2, 3].map((ticks) => ({ payload: { data: { ticks } } })));
    const spans = await traceOf(CALLER_TRACE, 'subscription Ticks', '00f067aa0ba902b6');
    expect(childrenOf(spans, one(spans, 'subscribe ticker')).filter((span) => span.name === 'subscription event')).toHaveLength(2);
    expect(one(inTrace(ORIGIN_TRACE), 'subscription event').links).toHaveLength(1);
  });

  it('a @defer streamed over multipart HTTP: its checks, its plan and its fetches are in the request', async () => {
    const caller = '00f067aa0ba902b8';
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824', traceparent: CALLER(caller) },
      body: JSON.stringify({ query: 'query Later { ... @defer { tick } }' }),
    });
    expect(await allMultipartParts(response)).toEqual([{ data: {}, hasNext: true }, { incremental: [{ data: { tick: 1 }, path: [] }], hasNext: false }]);
    const spans = await traceOf(CALLER_TRACE, 'POST /graphql', caller);
    const request = one(spans.filter((span) => span.parentSpanContext?.spanId === caller), 'POST /graphql');
    expect(childrenOf(spans, request).map((span) => span.name)).toEqual(expect.arrayContaining(['gateway.limits', 'gateway.auth.authorize', 'gateway.plan']));
    expect(one(spans, 'gateway.plan').attributes['trellis.plan.cache_hit']).toBe(false);
    // The deferred part's fetch to ticker, in the same trace.
    expect(spans.some((span) => span.kind === 2 && /ticker/.test(JSON.stringify(span.attributes)))).toBe(true);
  });
});
