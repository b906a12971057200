/**
 * A blocking query that runs until stopped, on the `consul` package's `Watch`: it passes `index`
 * and `wait`, calls back whenever Consul's index moves (and starts over when the index goes
 * backwards, as after an agent restart), backs off while the agent is unreachable (up to
 * `backoffMaxMs`), and `stop()` aborts the query in flight. What this adds: failures are logged
 * once and every tenth time rather than per attempt, and the caller hears when a query succeeds
 * again after failures (the watch itself only reports changes).
 */
import { types } from 'node:util';
import type Consul from 'consul';
import { errorMessage } from '../errors';
import type { Logger } from '../logging';
import { parseWait } from './consulRecords';

/** A package call (`consul.health.service`, `consul.kv.get`, ...) as the watch invokes it: it answers `[response, body]`. */
export type BlockingCall = (options: Record<string, unknown>) => Promise<unknown>;

export interface FollowOptions<T> {
  /** What is followed, for logs (e.g. `health/service/catalog`). */
  what: string;
  call: BlockingCall;
  /** Longest a blocking query waits before Consul answers unchanged (default 30s). */
  wait?: string;
  backoffMaxMs?: number;
  logger?: Logger;
  onChange: (body: T | undefined) => void;
  /** A query failed (the agent is unreachable, or answered an error). */
  onFailure?: (error: unknown) => void;
  /** A query succeeded: after failures, the agent is reachable again. */
  onSuccess?: (afterFailures: number) => void;
}

export interface Following {
  stop(): void;
}

/** An error of the package with what Consul said (papi's message is the status text alone when the body is not JSON). */
export function consulErrorMessage(error: unknown): string {
  const body = (error as { response?: { body?: unknown } }).response?.body;
  const said = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : undefined;
  return said?.trim() ? `${errorMessage(error)} (${said.trim()})` : errorMessage(error);
}

export function followConsul<T>(consul: Consul, options: FollowOptions<T>): Following {
  const wait = options.wait ?? '30s';
  let failures = 0;
  const watch = consul.watch({
    method: async (query: Record<string, unknown>) => {
      // After a failure, ask without `index`: Consul answers at once, so recovery is known without waiting for a change
      // (the watch still reports a change only if the index moved).
      const { index: _index, ...unblocked } = query;
      const answer = await options.call(failures > 0 ? unblocked : query);
      // Not `[response, body]`: papi resolved with an error of another realm (see `settled`).
      if (!Array.isArray(answer)) throw types.isNativeError(answer) ? answer : new Error(`consul answered ${String(answer)}`);
      options.onSuccess?.(failures);
      if (failures > 0) options.logger?.info({ what: options.what, failures }, 'consul reachable again');
      failures = 0;
      return answer;
    },
    // A blocking query answers within `wait` (plus Consul's jitter of wait/16); past that margin it is lost.
    options: { wait, timeout: parseWait(wait) + 10_000 } as unknown as Record<string, string>,
    backoffFactor: 100,
    backoffMax: options.backoffMaxMs ?? 5000,
  });
  watch.on('change', (body: T | undefined) => {
    // A listener's own failure is not Consul's: logged as such, and the watch goes on without backing off.
    try {
      options.onChange(body);
    } catch (error) {
      options.logger?.error({ what: options.what, err: errorMessage(error), stack: (error as Error).stack }, 'a consul watch listener failed');
    }
  });
  watch.on('error', (error: unknown) => {
    failures += 1;
    if (failures === 1 || failures % 10 === 0) {
      options.logger?.warn({ what: options.what, err: consulErrorMessage(error), failures }, 'consul watch failed; keeping the last known state');
    }
    options.onFailure?.(error);
  });
  return { stop: () => watch.end() };
}
