/**
 * The spans of an operation on graphql-ws or SSE: the operation's server span in the caller's
 * trace, its upstream subscription's client span, and a span per event, in the event's own trace
 * (a saga's) when it carries one.
 */
import { parse, type OperationDefinitionNode } from 'graphql';
import { context as otelContext, propagation, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import {
  EVENT_SPAN,
  SUBSCRIPTION_ATTRIBUTES,
  startEventSpan,
  startOperationSpan,
  startUpstreamSpan,
} from '../../../../gateway/subscriptions/operationSpans';
import type { GatewayContext } from '../../../../gateway/context';
import { recordSpans } from '../../../support/recordedSpans';

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const SAGA_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceOf = (traceId: string) =>
  propagation.extract(ROOT_CONTEXT, { traceparent: `00-${traceId}-b7ad6b7169203331-01` });
const prepared = (query: string) => {
  const document = parse(query);
  return { document, operation: document.definitions[0] as OperationDefinitionNode, queryHash: 'hash-1' };
};
const gatewayContext = (traceParent?: ReturnType<typeof traceOf>) => ({ traceParent }) as unknown as GatewayContext;

describe('operation spans', () => {
  const exporter = recordSpans();
  const finished = () => exporter.getFinishedSpans();

  it("names the operation's server span by type and name, with its document hash, in the caller's trace", () => {
    const operation = startOperationSpan(
      { query: 'subscription Watch { x }' },
      prepared('subscription Watch { x }'),
      gatewayContext(traceOf(CALLER_TRACE)),
      ROOT_CONTEXT,
    );
    operation.span.end();
    const [span] = finished();
    expect(span).toMatchObject({
      name: 'subscription Watch',
      kind: SpanKind.SERVER,
      attributes: {
        'graphql.operation.type': 'subscription',
        'graphql.operation.name': 'Watch',
        'graphql.document.hash': 'hash-1',
      },
    });
    expect(span.spanContext().traceId).toBe(CALLER_TRACE);
  });

  it('takes the name the request gives, and starts in the base context when the caller sent no trace', () => {
    const base = traceOf(SAGA_TRACE);
    const operation = startOperationSpan(
      { query: '{ x }', operationName: 'Given' },
      { ...prepared('{ x }'), queryHash: '' },
      gatewayContext(),
      base,
    );
    operation.span.end();
    const [span] = finished();
    expect([span.name, span.attributes]).toEqual([
      'query Given',
      { 'graphql.operation.type': 'query', 'graphql.operation.name': 'Given' },
    ]);
    expect(span.spanContext().traceId).toBe(SAGA_TRACE);
  });

  it('names an anonymous operation by its type, and one that failed to parse GraphQL Operation', () => {
    startOperationSpan({ query: '{ x }' }, prepared('{ x }'), gatewayContext(), ROOT_CONTEXT).span.end();
    startOperationSpan(
      { query: '{' },
      { errors: [new Error('Syntax Error')] },
      gatewayContext(),
      ROOT_CONTEXT,
    ).span.end();
    expect(finished().map((span) => [span.name, span.attributes])).toEqual([
      ['query', { 'graphql.operation.type': 'query', 'graphql.document.hash': 'hash-1' }],
      ['GraphQL Operation', {}],
    ]);
  });

  it('keeps the worst outcome of all the results it records', () => {
    const operation = startOperationSpan({ query: '{ x }' }, prepared('{ x }'), gatewayContext(), ROOT_CONTEXT);
    operation.record({ data: { x: 1 } });
    operation.record({ data: { x: null }, errors: [{ message: 'half', extensions: { code: 'PARTIAL' } } as never] });
    operation.record({ data: { x: 2 } });
    expect(operation.span).toMatchObject({
      attributes: { 'trellis.graphql.outcome': 'partial', 'error.type': 'PARTIAL' },
    });
    operation.record({ errors: [{ message: 'down', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } } as never] });
    operation.record({
      data: { x: null },
      errors: [{ message: 'half again', extensions: { code: 'OTHER' } } as never],
    });
    operation.span.end();
    const [span] = finished();
    expect(span.attributes).toMatchObject({ 'trellis.graphql.outcome': 'error', 'error.type': 'SUBGRAPH_UNAVAILABLE' });
    expect(span.status).toEqual({ code: 2, message: 'down' });
  });

  it('opens the upstream subscription as a client span under the operation, naming the subgraph', () => {
    const operation = startOperationSpan(
      { query: 'subscription { x }' },
      prepared('subscription { x }'),
      gatewayContext(traceOf(CALLER_TRACE)),
      ROOT_CONTEXT,
    );
    const upstream = startUpstreamSpan('sagas', operation);
    upstream.span.end();
    operation.span.end();
    const [client, server] = finished();
    expect(client).toMatchObject({
      name: 'subscribe sagas',
      kind: SpanKind.CLIENT,
      attributes: { 'graphql.operation.type': 'subscription', [SUBSCRIPTION_ATTRIBUTES.subgraph]: 'sagas' },
    });
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(client.spanContext().traceId).toBe(CALLER_TRACE);
  });

  it('puts an event without a trace of its own under the upstream span', () => {
    const operation = startOperationSpan(
      { query: 'subscription { x }' },
      prepared('subscription { x }'),
      gatewayContext(traceOf(CALLER_TRACE)),
      ROOT_CONTEXT,
    );
    const upstream = startUpstreamSpan('sagas', operation);
    const event = startEventSpan({ data: { x: 1 } }, 3, upstream.context, operation);
    expect(otelContext.active()).toBe(ROOT_CONTEXT);
    event.span.end();
    upstream.span.end();
    const [eventSpan, upstreamSpan] = finished();
    expect(eventSpan).toMatchObject({
      name: EVENT_SPAN,
      attributes: {
        'graphql.operation.type': 'subscription',
        [SUBSCRIPTION_ATTRIBUTES.eventIndex]: 3,
        [SUBSCRIPTION_ATTRIBUTES.eventTraced]: false,
      },
      links: [],
    });
    expect(EVENT_SPAN).toBe('subscription event');
    expect(eventSpan.parentSpanContext?.spanId).toBe(upstreamSpan.spanContext().spanId);
  });

  it("delivers an event that carries its own trace in that trace, linked to the operation's span", () => {
    const operation = startOperationSpan(
      { query: 'subscription { x }' },
      prepared('subscription { x }'),
      gatewayContext(traceOf(CALLER_TRACE)),
      ROOT_CONTEXT,
    );
    const upstream = startUpstreamSpan('sagas', operation);
    const event = startEventSpan(
      { data: { x: 1 }, extensions: { traceparent: `00-${SAGA_TRACE}-00f067aa0ba902b7-01` } },
      1,
      upstream.context,
      operation,
    );
    event.span.end();
    const [span] = finished();
    expect(span.spanContext().traceId).toBe(SAGA_TRACE);
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span.attributes[SUBSCRIPTION_ATTRIBUTES.eventTraced]).toBe(true);
    expect(span.links.map((link) => link.context.spanId)).toEqual([operation.span.spanContext().spanId]);
    expect(SUBSCRIPTION_ATTRIBUTES).toEqual({
      subgraph: 'trellis.subgraph.name',
      eventIndex: 'trellis.subscription.event.index',
      eventTraced: 'trellis.subscription.event.traced',
    });
  });

  it('ignores a traceparent that is not text', () => {
    const operation = startOperationSpan(
      { query: 'subscription { x }' },
      prepared('subscription { x }'),
      gatewayContext(traceOf(CALLER_TRACE)),
      ROOT_CONTEXT,
    );
    const upstream = startUpstreamSpan('sagas', operation);
    startEventSpan({ data: {}, extensions: { traceparent: 42 } }, 1, upstream.context, operation).span.end();
    expect(finished()[0].spanContext().traceId).toBe(CALLER_TRACE);
  });
});
