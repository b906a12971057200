/**
 * Structured JSON logs (pino). Every request gets a correlation id that travels in the
 * `x-correlation-id` header, into subgraph calls and Kafka headers, and onto every log line; a line
 * written inside a span also carries its `trace_id` and `span_id`.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { activeTraceIds } from '../telemetry/spans';

export type Logger = pino.Logger;

export const CORRELATION_ID_HEADER = 'x-correlation-id';

/**
 * Headers that belong to one operation, not to the caller: on a WebSocket shared by a caller's
 * operations they travel in each operation's `extensions.headers` rather than in connectionParams.
 */
export const PER_OPERATION_HEADERS: readonly string[] = [CORRELATION_ID_HEADER, 'traceparent', 'tracestate', 'baggage'];
export const TRACEPARENT_HEADER = 'traceparent';

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    { level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) }, mixin: () => activeTraceIds() ?? {} },
    destination,
  );
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's correlation id when it is well formed, else a new one (never trust arbitrary header text). */
export function correlationIdFrom(value: string | string[] | undefined | null): string {
  const candidate = Array.isArray(value) ? value[0] : value;
  return candidate && CORRELATION_ID.test(candidate) ? candidate : randomUUID();
}
