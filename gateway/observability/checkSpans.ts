/**
 * Spans of the gateway's checks (limits, authentication, authorization), on every transport. With
 * tracing off a check runs bare: no span, no attributes built.
 */
import { inSpan, type Span } from '@trellis/kit';
import { inSpanSync } from '@trellis/kit/internal';

export interface CheckSpans {
  /** Runs a synchronous check (throws to refuse) in span `name`; `span` is undefined with tracing off. */
  check<T>(name: string, check: (span?: Span) => T): T;
  /** The same for a check that waits (a token verification). */
  checkAsync<T>(name: string, check: (span?: Span) => Promise<T>): Promise<T>;
}

export const BARE_CHECKS: CheckSpans = {
  check: (_name, check) => check(),
  checkAsync: (_name, check) => check(),
};

const TRACED_CHECKS: CheckSpans = {
  check: (name, check) => inSpanSync(name, {}, check),
  checkAsync: (name, check) => inSpan(name, {}, check),
};

export function checkSpans(tracing: boolean): CheckSpans {
  return tracing ? TRACED_CHECKS : BARE_CHECKS;
}
