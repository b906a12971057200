/**
 * A subgraph asking another subgraph directly, not through the public gateway: the peer's
 * instances come from discovery (the same the gateway composes from), only those the allow-list
 * trusts (`SUBGRAPH_ALLOW`, when set) and that pass their checks are called, each call goes through
 * the process's guard (a breaker per peer) with a deadline, and the caller's own credential goes
 * with it, so the peer decides what it sees and rate-limits it as that caller, not as one shared
 * anonymous client.
 *
 * ```ts
 * const peers = peerSubgraphs({ discovery: backends.discovery, guard, config });
 * const { data } = await peers.query('catalog', 'query ($id: ID!) { product(id: $id) { price } }', { id }, context.forward);
 * ```
 */
import { routableInstances, type Discovery, type ServiceInstance, type Watch } from '../discovery';
import type { Guard } from '../resilience';
import { TrellisError, ErrorCode } from '../errors';
import { peerCallProblems, refuseUnsafe, type Config } from '../config';

export interface PeerSubgraphsOptions {
  discovery: Discovery;
  guard: Guard;
  /**
   * The process's configuration: `SUBGRAPH_ALLOW` says which instances may be called (unset: any
   * registered under the name); in production on Consul it must be set (or
   * `TRELLIS_ALLOW_ANY_SUBGRAPH=true`), else creating the client throws.
   */
  config: Config;
  /** Deadline of one call (3 s by default). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface PeerAnswer<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface PeerSubgraphs {
  /** Sends one GraphQL operation to a healthy (or, none being healthy, any), trusted instance of subgraph `name`, with `headers` (the caller's credential, trace). */
  query<T = Record<string, unknown>>(name: string, document: string, variables: Record<string, unknown>, headers?: Record<string, string>): Promise<PeerAnswer<T>>;
  close(): Promise<void>;
}

export function peerSubgraphs(options: PeerSubgraphsOptions): PeerSubgraphs {
  const { discovery, guard, config, timeoutMs = 3000, fetch: send = fetch } = options;
  refuseUnsafe(peerCallProblems(config));
  const allow = config.gateway.subgraphAllow;
  let instances: ServiceInstance[] = [];
  let known: Promise<Watch> | undefined;
  let heard!: () => void;
  const reported = new Promise<void>((resolve) => (heard = resolve));
  let turn = 0;

  // The watch starts with the first call (a subgraph that never asks a peer never watches) and
  // reports the whole set at once and on every change.
  const watching = () =>
    (known ??= discovery.watch((next) => {
      instances = next;
      heard();
    }));

  /** Until discovery first reports (it may be unreachable): at most one call's deadline. */
  const firstReport = async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([reported, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  };

  const post = (name: string) =>
    guard(`peer ${name}`, async (url: string, body: string, headers: Record<string, string>) => {
      const response = await send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(timeoutMs) });
      if (response.status >= 500) throw new Error(`${name} answered ${response.status}`);
      return (await response.json()) as PeerAnswer<unknown>;
    });
  const posts = new Map<string, ReturnType<typeof post>>();

  return {
    async query<T>(name: string, document: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<PeerAnswer<T>> {
      await watching();
      await firstReport();
      const named = instances.filter((instance) => instance.name === name);
      const trusted = named.filter((instance) => !allow?.refusal(instance));
      // None healthy: every trusted one, as the gateway does (a missed readiness check is not a dead peer).
      const callable = routableInstances(trusted);
      if (callable.length === 0) throw new TrellisError(ErrorCode.SUBGRAPH_UNAVAILABLE, whyNone(name, named), { retriable: true });
      const instance = callable[turn++ % callable.length];
      let call = posts.get(name);
      if (!call) posts.set(name, (call = post(name)));
      return (await call(instance.url, JSON.stringify({ query: document, variables }), headers)) as PeerAnswer<T>;
    },
    async close() {
      const watch = await known;
      await watch?.stop();
    },
  };
}

/** What an operator needs to hear when no instance can be asked: none registered, or none trusted. */
function whyNone(name: string, named: ServiceInstance[]): string {
  if (named.length === 0) return `no instance of subgraph ${name} is registered`;
  return `no instance of subgraph ${name} that SUBGRAPH_ALLOW trusts (${named.length} refused)`;
}
