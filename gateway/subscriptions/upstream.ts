/**
 * The gateway's side of a forwarded subscription: graphql-ws to a healthy instance of the owning
 * subgraph, as an async iterator. Subscriptions of one caller identity to one subgraph share one
 * connection (graphql-ws multiplexes them), as Apollo Router and Hive Gateway do: a caller who
 * subscribes again and again (a saga status per order) pays the upgrade, the connection_init and
 * the subgraph's token check once, not per subscription. What the connection carries is only what
 * identifies the caller (the forwarded headers); what belongs to one operation (its correlation id,
 * its trace context) goes in that operation's `extensions.headers`, which the kit reads per operation.
 * A connection closes a while after its last subscription ends (`idleCloseMs`). If the instance goes
 * away mid-stream, the client reconnects to another and subscribes again (the subgraph's
 * subscription starts with a snapshot, so nothing is missed). An instance that stops answering
 * (frozen, or gone without closing) is noticed by keep-alive pings: no pong within the timeout and
 * the connection is terminated, then retried like any other that dropped.
 */
import type { Client } from 'graphql-ws';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { ServiceInstance } from '@trellis/kit';
import { PER_OPERATION_HEADERS } from '@trellis/kit/internal';
import { createKeptAliveClient, type KeepAliveSettings } from '@trellis/kit';

/**
 * Where a (re)connect goes when no instance is healthy: refused at once on loopback. graphql-ws
 * awaits `url()` inside a promise nothing rejects, so a `url()` that threw would leave the
 * subscription waiting for ever; a refused connection is retried, then fails it.
 */
const NO_INSTANCE_URL = 'ws://127.0.0.1:1/graphql';

export interface UpstreamOptions {
  subgraph: string;
  instances: () => ServiceInstance[];
  query: string;
  variables: Record<string, unknown>;
  /** Every header the subgraph gets: the caller's (shared by its operations) and this operation's own. */
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface UpstreamSettings {
  /** Connections kept (one per subgraph and caller identity); the least recently used idle one goes first. */
  maxConnections?: number;
  /** How long a connection stays open after its last subscription ended, for the caller's next one. */
  idleCloseMs?: number;
  /** Pings to each subgraph connection, and how long a pong may take (UPSTREAM_WS_*; default 10 s and 5 s). */
  keepAlive?: Omit<KeepAliveSettings, 'onDeadPeer'>;
  /** Told when a subgraph connection was terminated for want of a pong. */
  onDeadPeer?: (subgraph: string) => void;
}

interface Pooled {
  key: string;
  client: Client;
  active: number;
  /** Dropped from the pool while still in use: disposed when its last subscription ends. */
  evicted: boolean;
  /** Closes the idle connection (unref'd: it never holds a stopping process). */
  idle?: NodeJS.Timeout;
  /** Set once the connection is being closed, settled when it is. */
  closing?: Promise<void>;
}

/**
 * Closes a graphql-ws client, never rejecting. `dispose()` awaits the connection attempt in flight
 * and rejects with its error when that attempt fails (an instance that went away, retried against
 * a refused port): a connection that never opened has nothing left to close, and that rejection,
 * unawaited, would surface later as an unhandled one.
 */
function disposeOf(pooled: Pooled): Promise<void> {
  pooled.closing ??= Promise.resolve()
    .then(() => pooled.client.dispose())
    .catch(() => undefined);
  return pooled.closing;
}

export class UpstreamConnections {
  private readonly pool: LRUCache<string, Pooled>;
  private readonly idleCloseMs: number;
  private readonly keepAlive: Omit<KeepAliveSettings, 'onDeadPeer'>;

  constructor(private readonly settings: UpstreamSettings = {}) {
    this.idleCloseMs = settings.idleCloseMs ?? 10_000;
    this.keepAlive = settings.keepAlive ?? { pingIntervalMs: 10_000, pongTimeoutMs: 5_000 };
    this.pool = new LRUCache({
      max: settings.maxConnections ?? 10_000,
      dispose: (pooled) => {
        pooled.evicted = true;
        clearTimeout(pooled.idle);
        if (pooled.active === 0) void disposeOf(pooled);
      },
    });
  }

  /** How many connections are kept (open or idle). */
  get size(): number {
    return this.pool.size;
  }

  async *subscribe(options: UpstreamOptions): AsyncGenerator<ExecutionResult> {
    if (options.instances().length === 0) {
      yield unavailable(options.subgraph, `no healthy instance of ${options.subgraph}`);
      return;
    }
    const { shared, own } = splitHeaders(options.headers);
    const pooled = this.connectionFor(options, shared);
    clearTimeout(pooled.idle);
    pooled.active += 1;
    const iterator = pooled.client.iterate<Record<string, unknown>>({
      query: options.query,
      variables: options.variables,
      extensions: { headers: own },
    });
    const abort = () => void iterator.return?.();
    options.signal?.addEventListener('abort', abort);
    try {
      for await (const result of iterator) yield result as ExecutionResult;
    } catch (error) {
      // The subgraph refused the operation (graphql-ws rejects with its GraphQL errors): passed on as they are.
      if (Array.isArray(error)) yield { errors: error as GraphQLError[] };
      else yield unavailable(options.subgraph, options.instances().length === 0 ? `no healthy instance of ${options.subgraph}` : describe(error));
    } finally {
      options.signal?.removeEventListener('abort', abort);
      pooled.active -= 1;
      if (pooled.active === 0) {
        if (pooled.evicted) await disposeOf(pooled);
        else {
          pooled.idle = setTimeout(() => pooled.active === 0 && this.pool.delete(pooled.key), this.idleCloseMs);
          pooled.idle.unref();
        }
      }
    }
  }

  /** Closes every connection (the gateway is stopping). */
  async close(): Promise<void> {
    const pooled = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(pooled.map((one) => (clearTimeout(one.idle), disposeOf(one))));
  }

  private connectionFor(options: UpstreamOptions, shared: Record<string, string>): Pooled {
    const key = `${options.subgraph}\n${JSON.stringify(Object.entries(shared).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    const kept = this.pool.get(key);
    if (kept) return kept;
    let next = 0;
    const pooled: Pooled = {
      key,
      client: createKeptAliveClient(
        {
          // Asked at every (re)connect: a healthy instance now, in turn.
          url: () => {
            const instances = options.instances();
            if (instances.length === 0) return NO_INSTANCE_URL;
            return instances[next++ % instances.length].url.replace(/^http/, 'ws');
          },
          connectionParams: { headers: shared },
          // Connected while pooled, closed by the pool's own idle timer (graphql-ws's lazy-close
          // timer survives dispose() and would hold a stopping process open).
          lazy: false,
          // A connection that cannot be made fails the subscriptions waiting on it, which say so.
          onNonLazyError: () => undefined,
          retryAttempts: 3,
          // graphql-ws retries only close events by default: a refused connection (an instance that
          // died, not yet out of discovery) would fail every subscription on it at once, although the
          // next url() is another instance. Fatal close codes (4401, 4400...) still fail without a retry.
          shouldRetry: () => true,
        },
        { ...this.keepAlive, onDeadPeer: () => this.settings.onDeadPeer?.(options.subgraph) },
      ),
      active: 0,
      evicted: false,
    };
    this.pool.set(key, pooled);
    return pooled;
  }
}

/** The caller's headers (the connection's) apart from this operation's own (its `extensions.headers`). */
function splitHeaders(headers: Record<string, string>): {
  shared: Record<string, string>;
  own: Record<string, string>;
} {
  const shared: Record<string, string> = {};
  const own: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (PER_OPERATION_HEADERS.includes(name.toLowerCase())) own[name.toLowerCase()] = value;
    else shared[name] = value;
  }
  return { shared, own };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  // graphql-ws rejects with the socket's CloseEvent when the connection closes for good.
  const close = error as { code?: unknown; reason?: unknown } | null;
  if (close && typeof close.code === 'number')
    return `connection closed: ${close.code}${close.reason ? ` ${String(close.reason)}` : ''}`;
  return 'connection closed';
}

function unavailable(subgraph: string, detail: string): ExecutionResult {
  return {
    errors: [
      new GraphQLError(`subgraph ${subgraph} is unavailable for this subscription (${detail})`, {
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph, reason: 'connection_failed' },
      }),
    ],
  };
}
