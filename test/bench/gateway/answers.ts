/** Checks one answer against what its call must get back: the same data, errors exactly when a field was refused. */
import { canonical, type Call, type DenialStyle } from './operations';

export type Verdict = 'ok' | 'partial' | 'wrong';

/**
 * Cheap enough for every response under load: gateways serialize `data` with JSON.stringify in
 * the order of the selection, so a full answer's expected data must appear as is after `"data":`.
 * A partial answer (a few in ten of the calls that touch a protected field) is parsed and compared
 * with its keys sorted, since where the null of a refused field is written differs between gateways.
 */
export function judge(call: Call, style: DenialStyle, status: number, body: string): Verdict {
  if (status !== 200) return 'wrong';
  const expected = call.expected[style];
  if (expected.partial) {
    try {
      const answer = JSON.parse(body) as { data?: unknown; errors?: unknown[] };
      return canonical(answer.data) === expected.data && (answer.errors?.length ?? 0) > 0 ? 'partial' : 'wrong';
    } catch {
      return 'wrong';
    }
  }
  return body.includes(`"data":${expected.data}`) && !body.includes('"errors":') ? 'ok' : 'wrong';
}

/** The same check on a parsed answer (probes before the load), with the reason when it fails. */
export function explain(call: Call, style: DenialStyle, status: number, answer: { data?: unknown; errors?: unknown[] }): string | undefined {
  const expected = call.expected[style];
  if (status !== 200) return `HTTP ${status}: ${JSON.stringify(answer.errors ?? []).slice(0, 300)}`;
  const data = expected.partial ? canonical(answer.data) : JSON.stringify(answer.data);
  if (data !== expected.data) return `${call.operation.operationName} ${JSON.stringify(call.variables)} as ${call.user.id}: data ${data?.slice(0, 300)}, expected ${expected.data.slice(0, 300)}`;
  const hasErrors = (answer.errors?.length ?? 0) > 0;
  if (hasErrors !== expected.partial) return `${call.operation.operationName} ${JSON.stringify(call.variables)} as ${call.user.id}: ${hasErrors ? `unexpected errors ${JSON.stringify(answer.errors).slice(0, 300)}` : 'no error for a refused field'}`;
  return undefined;
}
