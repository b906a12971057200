/**
 * Spans and trace context for Trellis code, on the OpenTelemetry API: with tracing off every call
 * is the API's no-op. Context crosses processes only through the registered W3C propagators.
 */
import {
  context,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';

export { SpanKind, type Attributes, type Context, type Link, type Span };

const TRACER = 'trellis';
const ERROR_TYPE = 'error.type';

/** What `error.type` says of an error: its GraphQL or Trellis code when it has one, else its class. */
export function errorType(error: unknown): string {
  const { extensions, code, name } = (error ?? {}) as { extensions?: { code?: unknown }; code?: unknown; name?: unknown };
  if (typeof extensions?.code === 'string') return extensions.code;
  if (typeof code === 'string') return code;
  return typeof name === 'string' ? name : '_OTHER';
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context by default. */
  parent?: Context;
  /** When the span started (epoch ms), for a span made after the fact; now by default. */
  startTime?: number;
  /** Spans this one relates to besides its parent (e.g. a subscription event's operation). */
  links?: Link[];
}

/** Runs `work` inside a new active span, records a throw on it as an error, and ends it. */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const tracer = trace.getTracer(TRACER);
  return tracer.startActiveSpan(
    name,
    { kind: options.kind, attributes: options.attributes, links: options.links },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** `inSpan` for synchronous work (a check that throws to refuse): the span is active while `work` runs. */
export function inSpanSync<T>(name: string, options: SpanOptions, work: (span: Span) => T): T {
  return trace.getTracer(TRACER).startActiveSpan(
    name,
    { kind: options.kind, attributes: options.attributes },
    options.parent ?? context.active(),
    (span) => {
      try {
        return work(span);
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Starts a span that is not made active (for phases that end in a callback); the caller ends it. */
export function startSpan(name: string, options: SpanOptions = {}): Span {
  return trace
    .getTracer(TRACER)
    .startSpan(name, { kind: options.kind, attributes: options.attributes, startTime: options.startTime, links: options.links }, options.parent ?? context.active());
}

/** Marks a span failed with the error's message (and the error as an exception event), its code as `error.type`. */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setAttribute(ERROR_TYPE, errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Writes the context's trace headers (traceparent, tracestate, baggage) into `carrier`; returns it. */
export function injectTrace<T extends Record<string, string>>(carrier: T, from: Context = context.active()): T {
  propagation.inject(from, carrier);
  return carrier;
}

/** The context a carrier's trace headers (an HTTP request's, a message's, a saga record's) continue. */
export function extractTrace(
  carrier: Record<string, string | string[] | undefined>,
  base: Context = context.active(),
): Context {
  return propagation.extract(base, carrier);
}

/** Runs `work` with `ctx` as the active context (so spans started inside are its children). */
export function withTraceContext<T>(ctx: Context, work: () => T): T {
  return context.with(ctx, work);
}

/** The active span's ids, for log lines; nothing outside a span or with tracing off. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
}

/** The context active now (the parent of a span started here). */
export function activeContext(): Context {
  return context.active();
}

/** The span active now (a no-op one outside a span), to add attributes to. */
export function activeSpan(): Span | undefined {
  return trace.getSpan(context.active());
}
