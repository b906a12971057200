/**
 * One graphql-ws connection from the gateway to a subgraph, for one caller identity, carrying any
 * number of subscriptions (graphql-ws multiplexes them on one socket). Held by reference count;
 * with none left it stays open for `idleMs`, for the next subscription, then closes. If its
 * instance goes away, graphql-ws reconnects to the next healthy one and subscribes every
 * operation again (each starts with a snapshot, so nothing is missed).
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { ServiceInstance } from '../../shared/discovery';
import type { Clock } from '../../shared/saga';

export interface ConnectionSettings {
  /** How long a connection with no subscription stays open for the next one. */
  idleMs: number;
  /** Reconnections tried before the subscriptions on a lost connection fail (SUBGRAPH_UNAVAILABLE). */
  retryAttempts: number;
  /** The wait before each reconnection (graphql-ws's randomised exponential backoff when absent). */
  retryWait?: (retries: number) => Promise<void>;
  clock: Clock;
}

/** The url graphql-ws is handed when no instance is healthy: the socket it opens closes at once, and it retries. */
const NO_INSTANCE = 'trellis:no-healthy-instance';
/** Try Again Later: graphql-ws retries it, then fails the subscriptions with it. */
const TRY_AGAIN_LATER = 1013;

export class UpstreamConnection {
  readonly client: Client;
  private references = 0;
  private idle?: { clear(): void };
  private closing?: Promise<void>;

  constructor(
    readonly subgraph: string,
    instances: () => ServiceInstance[],
    headers: Record<string, string>,
    private readonly settings: ConnectionSettings,
    /**
     * Called when the idle time ran out with no subscription, or when it gave up reconnecting: no
     * new subscription may use it. (Closing it at once would complete its subscriptions silently
     * before each reports the failure: close it once it is idle.)
     */
    private readonly onDone: () => void,
  ) {
    let next = 0;
    this.client = createClient({
      url: () => {
        const healthy = instances();
        // graphql-ws cannot fail a connection from here (a throw leaves it waiting forever): see NO_INSTANCE.
        if (healthy.length === 0) return NO_INSTANCE;
        return healthy[next++ % healthy.length].url.replace(/^http/, 'ws');
      },
      webSocketImpl: upstreamSocket(subgraph),
      connectionParams: { headers },
      // Connected while held; the pool closes it after the idle time (graphql-ws's own timer cannot be driven by a clock).
      lazy: false,
      // Gave up reconnecting: each subscription on it gets the same failure and reports it.
      onNonLazyError: () => this.onDone(),
      retryAttempts: settings.retryAttempts,
      ...(settings.retryWait ? { retryWait: settings.retryWait } : {}),
    });
  }

  get isIdle(): boolean {
    return this.references === 0;
  }

  acquire(): void {
    this.references++;
    this.idle?.clear();
    this.idle = undefined;
  }

  release(): void {
    this.references--;
    if (this.references > 0 || this.closing) return;
    this.idle = this.settings.clock.setTimeout(() => {
      this.idle = undefined;
      this.onDone();
    }, this.settings.idleMs);
  }

  /** Closes the socket (Normal Closure); its subscriptions complete. */
  close(): Promise<void> {
    this.idle?.clear();
    this.idle = undefined;
    // dispose waits for a connection being opened, which rejects if that fails: closed either way.
    return (this.closing ??= Promise.resolve(this.client.dispose()).catch(() => undefined));
  }
}

/**
 * `ws`, except for NO_INSTANCE: a socket that closes at once with Try Again Later, so graphql-ws
 * waits and retries (discovery may list another instance by then), and finally fails.
 */
function upstreamSocket(subgraph: string): unknown {
  function UpstreamSocket(url: string, protocol: string): object {
    if (url !== NO_INSTANCE) return new WebSocket(url, protocol);
    const closed = { readyState: WebSocket.CLOSED, onclose: null as null | ((event: object) => void), onerror: null, onopen: null, onmessage: null, close: () => undefined, send: () => undefined };
    setImmediate(() => closed.onclose?.({ code: TRY_AGAIN_LATER, reason: `no healthy instance of ${subgraph}`, wasClean: false }));
    return closed;
  }
  return Object.assign(UpstreamSocket, { CONNECTING: WebSocket.CONNECTING, OPEN: WebSocket.OPEN, CLOSING: WebSocket.CLOSING, CLOSED: WebSocket.CLOSED });
}
