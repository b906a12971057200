/**
 * Subscriptions served by the kit, traced: a server span per subscription in the caller's trace,
 * and a producer span in an event's own trace (a saga's) whose context goes out with the event.
 */
import { buildSchema, parse, type ExecutionResult } from 'graphql';
import { SpanKind, trace } from '@opentelemetry/api';
import { subscribeTraced, tracedEvent } from '@trellis/kit/internal/subgraph/eventTraces';
import { recordSpans } from '../../../support/recordedSpans';

const schema = buildSchema('type Query { ok: Boolean } type Subscription { ticks: Int, broken: Int }');
const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER = `00-${CALLER_TRACE}-b7ad6b7169203331-01`;
const SAGA_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SAGA = `00-${SAGA_TRACE}-00f067aa0ba902b7-01`;

describe('subscribeTraced', () => {
  const exporter = recordSpans();

  const spans = () => exporter.getFinishedSpans();
  const events = (...payloads: object[]) =>
    async function* () {
      for (const payload of payloads) yield payload;
    };
  const subscribeTo = async (source: string, rootValue: Record<string, unknown>, traceparent?: string) =>
    (await subscribeTraced({
      schema,
      document: parse(source),
      rootValue,
      contextValue: traceparent ? { traceparent } : {},
    })) as AsyncIterableIterator<ExecutionResult>;

  it('serves each event in a server span that continues the caller trace, ended with the stream', async () => {
    const stream = await subscribeTo(
      'subscription Ticks { ticks }',
      { ticks: events({ ticks: 1 }, { ticks: 2 }) },
      CALLER,
    );
    expect(await stream.next()).toEqual({ done: false, value: { data: { ticks: 1 } } });
    expect(await stream.next()).toEqual({ done: false, value: { data: { ticks: 2 } } });
    expect(spans()).toEqual([]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    const [span] = spans();
    expect(spans()).toHaveLength(1);
    expect(span).toMatchObject({
      name: 'subscription Ticks',
      kind: SpanKind.SERVER,
      attributes: { 'graphql.operation.type': 'subscription', 'graphql.operation.name': 'Ticks' },
    });
    expect(span.spanContext().traceId).toBe(CALLER_TRACE);
  });

  it('names an anonymous subscription by its type only', async () => {
    const stream = await subscribeTo('subscription { ticks }', { ticks: events() });
    await stream.next();
    expect(spans().map((span) => [span.name, span.attributes])).toEqual([
      ['subscription', { 'graphql.operation.type': 'subscription' }],
    ]);
  });

  it('delivers an event that belongs to a trace in a producer span of that trace, linked to the subscription, and sends its context along', async () => {
    const marked = tracedEvent({ ticks: 7 }, { traceparent: SAGA, attributes: { 'saga.id': 's1' } });
    expect(Object.keys(marked)).toEqual(['ticks']);
    const stream = await subscribeTo('subscription Ticks { ticks }', { ticks: events(marked, { ticks: 8 }) }, CALLER);
    const first = (await stream.next()).value as ExecutionResult;
    const [producer] = spans();
    expect(producer).toMatchObject({
      name: 'send Ticks event',
      kind: SpanKind.PRODUCER,
      attributes: { 'saga.id': 's1' },
    });
    expect(producer.spanContext().traceId).toBe(SAGA_TRACE);
    expect(first).toEqual({
      data: { ticks: 7 },
      extensions: { traceparent: `00-${SAGA_TRACE}-${producer.spanContext().spanId}-01` },
    });
    expect((await stream.next()).value).toEqual({ data: { ticks: 8 } });
    await stream.return!();
    const subscription = spans().find((span) => span.kind === SpanKind.SERVER)!;
    expect(producer.links.map((link) => link.context.spanId)).toEqual([subscription.spanContext().spanId]);
    expect(spans()).toHaveLength(2);
  });

  it('names the producer span of an anonymous subscription', async () => {
    const stream = await subscribeTo('subscription { ticks }', {
      ticks: events(tracedEvent({ ticks: 1 }, { traceparent: SAGA })),
    });
    await stream.next();
    expect(spans().map((span) => span.name)).toEqual(['send subscription event']);
  });

  it('runs an unmarked event inside the subscription span', async () => {
    let active: string | undefined;
    const stream = (await subscribeTraced({
      schema,
      document: parse('subscription { ticks }'),
      rootValue: { ticks: events({ ticks: 1 }) },
      fieldResolver: (source: { ticks: number }) => {
        active = trace.getActiveSpan()?.spanContext().traceId;
        return source.ticks;
      },
      contextValue: { traceparent: CALLER },
    })) as AsyncIterableIterator<ExecutionResult>;
    await stream.next();
    expect(active).toBe(CALLER_TRACE);
  });

  it('answers a subscription refused at its start with its errors, recorded on an ended span', async () => {
    const refuse = () => {
      throw new Error('not yours');
    };
    const result = (await subscribeTraced({
      schema,
      document: parse('subscription Broken { broken }'),
      rootValue: { broken: refuse },
    })) as ExecutionResult;
    expect(result.errors?.map((error) => error.message)).toEqual(['not yours']);
    expect(spans().map((span) => [span.name, span.status.code, span.attributes['trellis.graphql.outcome']])).toEqual([
      ['subscription Broken', 2, 'error'],
    ]);
  });

  it('ends the span, recording the error, of a subscription whose resolver gives no stream', async () => {
    const noStream = subscribeTraced({
      schema,
      document: parse('subscription Broken { broken }'),
      rootValue: { broken: () => 42 },
    });
    await expect(noStream).rejects.toThrow(/Subscription field must return Async Iterable/);
    expect(spans().map((span) => [span.name, span.status.code])).toEqual([['subscription Broken', 2]]);
  });

  it('ends its span once, and stops the source, when the client stops or the stream is thrown into', async () => {
    let stopped = 0;
    const source = () => ({
      [Symbol.asyncIterator]() {
        return this;
      },
      next: async () => ({ done: false, value: { ticks: 1 } }),
      return: async () => {
        stopped += 1;
        return { done: true, value: undefined };
      },
    });
    const stopping = await subscribeTo('subscription { ticks }', { ticks: source });
    await stopping.next();
    expect(await stopping.return!()).toEqual({ done: true, value: undefined });
    await stopping.return!();
    const throwing = await subscribeTo('subscription { ticks }', { ticks: source });
    await expect(throwing.throw!(new Error('client gone'))).rejects.toThrow('client gone');
    expect(stopped).toBe(3);
    expect(spans()).toHaveLength(2);
    expect(stopping[Symbol.asyncIterator]()).toBe(stopping);
  });
});
