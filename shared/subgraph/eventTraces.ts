/**
 * Traces of subscriptions served over graphql-ws: a server span per subscription (continuing the
 * gateway's upstream span from the operation's headers), and, for an event that belongs to a trace
 * of its own (a saga's status change), a producer span in that trace whose context goes out with
 * the event in `extensions.traceparent`, so the gateway delivers the event in the same trace.
 *
 *   subscribe: () => mapEvents(watch(id), (record) => tracedEvent({ sagaStatus: record }, { traceparent: record.traceparent }))
 *
 * Installed only when tracing is on; off, `tracedEvent` marks a payload and nothing reads it.
 */
import { createSourceEventStream, execute, getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { trace } from '@opentelemetry/api';
import { GRAPHQL_ATTRIBUTES, recordOutcome } from '../telemetry/graphql';
import { extractTrace, failSpan, injectTrace, SpanKind, startSpan, withTraceContext, type Attributes } from '../telemetry/spans';

const EVENT_TRACE = Symbol('trellis.eventTrace');

export interface EventTrace {
  /** The W3C traceparent the event belongs to (e.g. the saga record's); none: the subscription's own trace. */
  traceparent?: string;
  /** Attributes of the event's span (e.g. the saga's id and state). */
  attributes?: Attributes;
}

/** Marks a subscription payload as belonging to a trace; returns the payload. */
export function tracedEvent<T extends object>(payload: T, eventTrace: EventTrace): T {
  Object.defineProperty(payload, EVENT_TRACE, { value: eventTrace, enumerable: false });
  return payload;
}

function eventTraceOf(payload: unknown): EventTrace | undefined {
  return typeof payload === 'object' && payload !== null ? (payload as { [EVENT_TRACE]?: EventTrace })[EVENT_TRACE] : undefined;
}

/** graphql-ws's `subscribe`, traced: graphql-js's own steps (source stream, then `execute` per event), each in its span. */
export async function subscribeTraced(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const operation = getOperationAST(args.document, args.operationName);
  const name = operation?.name?.value;
  const parent = extractTrace({ traceparent: (args.contextValue as { traceparent?: string } | undefined)?.traceparent });
  const span = startSpan(`subscription${name ? ` ${name}` : ''}`, {
    kind: SpanKind.SERVER,
    parent,
    attributes: { [GRAPHQL_ATTRIBUTES.operationType]: 'subscription', ...(name ? { [GRAPHQL_ATTRIBUTES.operationName]: name } : {}) },
  });
  const own = trace.setSpan(parent, span);
  let ended = false;
  const end = () => {
    if (!ended) span.end();
    ended = true;
  };
  let stream: Awaited<ReturnType<typeof createSourceEventStream>>;
  try {
    stream = await withTraceContext(own, () => createSourceEventStream(args));
  } catch (error) {
    // graphql-js throws (rather than answers) when a resolver gives no stream: the span must still end.
    failSpan(span, error);
    end();
    throw error;
  }
  if (!(Symbol.asyncIterator in stream)) {
    recordOutcome(span, stream);
    end();
    return stream;
  }
  const source = stream[Symbol.asyncIterator]();
  const resolve = async (payload: unknown): Promise<ExecutionResult> => {
    const marked = eventTraceOf(payload);
    const run = () => execute({ ...args, rootValue: payload }) as Promise<ExecutionResult>;
    if (!marked?.traceparent) return withTraceContext(own, run);
    const origin = extractTrace({ traceparent: marked.traceparent });
    const event = startSpan(`send ${name ?? 'subscription'} event`, { kind: SpanKind.PRODUCER, parent: origin, links: [{ context: span.spanContext() }], attributes: marked.attributes });
    const inEvent = trace.setSpan(origin, event);
    try {
      const result = await withTraceContext(inEvent, run);
      return { ...result, extensions: { ...result.extensions, ...injectTrace({}, inEvent) } };
    } finally {
      event.end();
    }
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    next: async () => {
      const step = await source.next();
      if (step.done) end();
      return step.done ? { done: true, value: undefined } : { done: false, value: await resolve(step.value) };
    },
    // Straight to the source (not queued behind a pending `next`), as graphql-js's own mapping does.
    return: async () => {
      end();
      await source.return?.();
      return { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      end();
      await source.return?.();
      throw error;
    },
  };
  return iterator;
}
