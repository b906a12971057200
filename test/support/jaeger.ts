/** The real Jaeger of test/stack (or JAEGER_QUERY_URL / JAEGER_OTLP_URL): where to send spans, and traces read back from its query API. */
import { randomBytes } from 'node:crypto';

export const jaeger = {
  queryUrl: process.env.JAEGER_QUERY_URL || 'http://127.0.0.1:16686',
  /** The OTLP/HTTP base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  otlpUrl: process.env.JAEGER_OTLP_URL || 'http://127.0.0.1:4318',
};

export interface TraceSpan {
  spanId: string;
  parentId?: string;
  name: string;
  service: string;
  /** The process's `service.instance.id`: one per run of a service. */
  instance?: string;
  kind?: string;
  tags: Record<string, unknown>;
  /** Spans in this or other traces this one links to (Jaeger's FOLLOWS_FROM references). */
  links: Array<{ traceId: string; spanId: string }>;
}

interface JaegerTrace {
  spans: Array<{ spanID: string; operationName: string; processID: string; references?: Array<{ refType: string; traceID: string; spanID: string }>; tags: Array<{ key: string; value: unknown }> }>;
  processes: Record<string, { serviceName: string; tags?: Array<{ key: string; value: unknown }> }>;
}

/** A W3C traceparent the test sends as the client, sampled: its ids name the trace to look up. */
export function clientTraceparent(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Every span Jaeger holds for the trace (none yet: an empty list). */
export async function traceSpans(traceId: string): Promise<TraceSpan[]> {
  const response = await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`jaeger answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { data: JaegerTrace[] };
  return body.data.flatMap((trace) =>
    trace.spans.map((span) => {
      const tags = Object.fromEntries(span.tags.map((tag) => [tag.key, tag.value]));
      return {
        spanId: span.spanID,
        parentId: span.references?.find((ref) => ref.refType === 'CHILD_OF')?.spanID,
        name: span.operationName,
        service: trace.processes[span.processID].serviceName,
        instance: trace.processes[span.processID].tags?.find((tag) => tag.key === 'service.instance.id')?.value as string | undefined,
        kind: tags['span.kind'] as string | undefined,
        tags,
        links: (span.references ?? []).filter((ref) => ref.refType === 'FOLLOWS_FROM').map((ref) => ({ traceId: ref.traceID, spanId: ref.spanID })),
      };
    }),
  );
}

/**
 * Polls Jaeger until `check` passes on the trace's spans, and returns what it returns. `check` holds
 * every assertion the test makes on the trace (it throws, e.g. through `expect`, while any span it
 * asserts on is missing): spans reach Jaeger as each process's batch is exported, in no order
 * across processes, so reading once a few spans are in can miss the rest. Past `timeoutMs` the
 * last failure is thrown, with the spans seen.
 */
export async function expectTrace<T>(traceId: string, check: (spans: TraceSpan[]) => T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await traceSpans(traceId);
    try {
      if (spans.length === 0) throw new Error('no trace yet');
      return check(spans);
    } catch (error) {
      if (Date.now() >= deadline) {
        const seen = spans.map((s) => `${s.service}${s.instance ? `[${s.instance.slice(0, 8)}]` : ''}:${s.name}`).join(', ');
        (error as Error).message = `trace ${traceId} still failing after ${timeoutMs} ms: ${(error as Error).message}\nspans: ${seen}`;
        throw error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The span's ancestors, nearest first, within the trace. */
export function ancestors(span: TraceSpan, spans: TraceSpan[]): TraceSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain: TraceSpan[] = [];
  for (let parent = span.parentId && byId.get(span.parentId); parent; parent = parent.parentId ? byId.get(parent.parentId) : undefined) chain.push(parent);
  return chain;
}
