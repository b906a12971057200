/** Checks one answer against what its call must get back: the same data, errors exactly when a field was refused. */
import type { Call, DenialStyle } from './operations';

export type Verdict = 'ok' | 'partial' | 'wrong';

/**
 * Cheap enough for every response under load: gateways serialize `data` with JSON.stringify in
 * the order of the selection, so the expected data must appear as is after `"data":`.
 */
export function judge(call: Call, style: DenialStyle, status: number, body: string): Verdict {
  if (status !== 200) return 'wrong';
  const expected = call.expected[style];
  if (!body.includes(`"data":${expected.data}`)) return 'wrong';
  const hasErrors = body.includes('"errors":');
  if (hasErrors !== expected.partial) return 'wrong';
  return expected.partial ? 'partial' : 'ok';
}

/** The same check on a parsed answer (probes before the load), with the reason when it fails. */
export function explain(call: Call, style: DenialStyle, status: number, answer: { data?: unknown; errors?: unknown[] }): string | undefined {
  const expected = call.expected[style];
  if (status !== 200) return `HTTP ${status}: ${JSON.stringify(answer.errors ?? []).slice(0, 300)}`;
  const data = JSON.stringify(answer.data);
  if (data !== expected.data) return `${call.operation.operationName} ${JSON.stringify(call.variables)} as ${call.user.id}: data ${data?.slice(0, 300)}, expected ${expected.data.slice(0, 300)}`;
  const hasErrors = (answer.errors?.length ?? 0) > 0;
  if (hasErrors !== expected.partial) return `${call.operation.operationName} ${JSON.stringify(call.variables)} as ${call.user.id}: ${hasErrors ? `unexpected errors ${JSON.stringify(answer.errors).slice(0, 300)}` : 'no error for a refused field'}`;
  return undefined;
}
