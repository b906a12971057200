/**
 * What the runner proves before it measures: the subgraphs verify the forwarded token, each target
 * hands the token to a verifier, and each target answers every distinct call of a workload with
 * the data that call must get (and an error exactly where a field is refused).
 */
import { explain } from './answers';
import { cleanData, probe } from './probe';
import type { Call, DenialStyle, Workload } from './operations';

export interface Callers {
  /** The `Authorization` header of a call's user. */
  authorization(call: Call): string;
  /** A header with the first user's token, signature broken. */
  forged: Record<string, string>;
  /** A header with the first user's genuine token. */
  genuine: Record<string, string>;
}

/**
 * Every target must hand the token to something that verifies it (the gateway, else the
 * subgraphs), cache hit or not: a forged one may not get a clean answer, or this target would skip the cost.
 */
export async function checkTokenReachesVerifier(url: string, workload: Workload, callers: Callers): Promise<void> {
  // The genuine token first: a target that caches has the answer at hand, and must refuse the forged one all the same.
  await probe(url, workload.calls[0].body, callers.genuine);
  const answer = await probe(url, workload.calls[0].body, callers.forged);
  if (!(cleanData(answer) instanceof Error)) throw new Error(`a forged token gets a clean answer to ${workload.name}: the token reaches no verifier`);
}

/** The subgraphs must verify the forwarded token, or targets that forward it would skip that cost. */
export async function checkSubgraphsVerifyTokens(urls: Record<string, string>, callers: Callers): Promise<void> {
  const url = Object.values(urls)[0];
  const body = JSON.stringify({ query: '{ __typename }' });
  const forged = await probe(url, body, callers.forged);
  if (forged.status !== 401) throw new Error(`subgraphs accept a forged token (HTTP ${forged.status}): is AUTH_ISSUER reaching them?`);
  const genuine = await probe(url, body, callers.genuine);
  if (genuine.status !== 200 || genuine.errors?.length) throw new Error(`subgraphs refuse the bench's token: HTTP ${genuine.status} ${JSON.stringify(genuine.errors ?? [])}`);
}

/**
 * Probes each distinct call of `workload` (same body and same scopes count once; `checked` keeps
 * the verdicts of calls already probed on this target) and returns the first problem.
 */
export async function checkWorkload(url: string, workload: Workload, denial: DenialStyle, callers: Callers, checked: Map<string, string | undefined>): Promise<string | undefined> {
  for (const call of workload.calls) {
    const key = `${call.user.scopes.join(' ')} ${call.body}`;
    if (!checked.has(key)) {
      const answer = await probe(url, call.body, { authorization: callers.authorization(call) }).catch((error: Error) => error);
      checked.set(key, answer instanceof Error ? answer.message : explain(call, denial, answer.status, answer));
    }
    const problem = checked.get(key);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * A private answer must never reach another caller, cache or no cache: the owner reads their
 * account (kept, where the target caches it), then another caller sends the very same request with
 * their own token and must be refused, not served the owner's data.
 */
export async function checkPrivateStaysPrivate(url: string, workload: Workload, callers: Callers): Promise<void> {
  const own = workload.calls.find((call) => !call.expected.propagate.partial)!;
  const other = workload.calls.find((call) => call.user.id !== own.user.id)!;
  const first = await probe(url, own.body, { authorization: callers.authorization(own) });
  if (cleanData(first) instanceof Error) throw new Error(`${own.user.id} reading their own account: ${(cleanData(first) as Error).message}`);
  const second = await probe(url, own.body, { authorization: callers.authorization(other) });
  const leaked = JSON.stringify(second.data ?? null).includes(JSON.stringify(own.user.email));
  if (leaked || !second.errors?.length) throw new Error(`${other.user.id} asking for ${own.user.id}'s account got ${leaked ? 'their data' : 'no refusal'}: ${JSON.stringify(second).slice(0, 300)}`);
}
