/**
 * The gateway's side of forwarded subscriptions: one graphql-ws connection per subgraph and caller
 * identity (the headers the rules send, less the per-request ones such as the correlation id), and
 * one upstream subscription per identical operation on it, fanned out to every client asking.
 * Two callers whose tokens (or any identity header) differ never share a connection.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { ServiceInstance } from '../../shared/discovery';
import { systemClock } from '../../shared/saga';
import { identityKey } from '../datasource';
import { SharedSubscription, type Ending } from './sharedSubscription';
import { UpstreamConnection, type ConnectionSettings } from './upstreamConnection';

export interface UpstreamRequest {
  subgraph: string;
  query: string;
  variables: Record<string, unknown>;
  /** The headers the rules send this subgraph for this caller: the connection's `connectionParams.headers`. */
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface UpstreamPoolOptions extends Partial<ConnectionSettings> {
  /** The healthy instances of a subgraph, read at each (re)connection. */
  instances: (subgraph: string) => ServiceInstance[];
}

export const DEFAULT_IDLE_MS = 30_000;

export class UpstreamPool {
  private readonly connections = new Map<string, UpstreamConnection>();
  private readonly subscriptions = new Map<string, SharedSubscription>();
  private readonly settings: ConnectionSettings;
  private isStopped = false;

  constructor(private readonly options: UpstreamPoolOptions) {
    this.settings = { idleMs: DEFAULT_IDLE_MS, retryAttempts: 3, clock: systemClock, ...options };
  }

  /** Open connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** The subgraph's events for this operation, until it completes, fails (SUBGRAPH_UNAVAILABLE) or `signal` aborts. */
  async *subscribe(request: UpstreamRequest): AsyncGenerator<ExecutionResult> {
    const { subgraph, signal } = request;
    if (signal?.aborted) return;
    if (this.isStopped) return yield unavailable(subgraph, 'the gateway is stopping');
    if (this.options.instances(subgraph).length === 0) return yield unavailable(subgraph, `no healthy instance of ${subgraph}`);
    try {
      yield* this.shared(request).join(signal);
    } catch (failure) {
      yield unavailable(subgraph, describe(failure));
    }
  }

  /** Closes every connection (on gateway stop, after the clients were told): their subscriptions end. */
  async stop(): Promise<void> {
    this.isStopped = true;
    const closing = [...this.connections.values()].map((connection) => connection.close());
    this.connections.clear();
    this.subscriptions.clear();
    await Promise.all(closing);
  }

  private shared(request: UpstreamRequest): SharedSubscription {
    const connectionKey = `${request.subgraph}\n${identityKey(request.headers)}`;
    const key = `${connectionKey}\n${request.query}\n${JSON.stringify(request.variables)}`;
    const existing = this.subscriptions.get(key);
    if (existing) return existing;
    const connection = this.connection(connectionKey, request);
    connection.acquire();
    const subscription = new SharedSubscription(
      (sink) => connection.client.subscribe<Record<string, unknown>>({ query: request.query, variables: request.variables }, sink as never),
      (ending) => this.ended(key, subscription, connectionKey, connection, ending),
    );
    this.subscriptions.set(key, subscription);
    return subscription;
  }

  private ended(key: string, subscription: SharedSubscription, connectionKey: string, connection: UpstreamConnection, ending: Ending): void {
    if (this.subscriptions.get(key) === subscription) this.subscriptions.delete(key);
    // A failed connection gave up reconnecting: the next subscription opens a fresh one.
    if (ending.failure !== undefined && this.connections.get(connectionKey) === connection) this.connections.delete(connectionKey);
    connection.release();
    if (connection.isIdle && this.connections.get(connectionKey) !== connection) void connection.close();
  }

  private connection(connectionKey: string, request: UpstreamRequest): UpstreamConnection {
    const existing = this.connections.get(connectionKey);
    if (existing) return existing;
    const connection = new UpstreamConnection(request.subgraph, () => this.options.instances(request.subgraph), request.headers, this.settings, () => {
      if (this.connections.get(connectionKey) === connection) this.connections.delete(connectionKey);
      if (connection.isIdle) void connection.close();
    });
    this.connections.set(connectionKey, connection);
    return connection;
  }
}

/** graphql-ws fails a subscription with a close event, an Error, or the subgraph's error list. */
function describe(failure: unknown): string {
  if (failure instanceof Error) return failure.message;
  const reason = (failure as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' && reason !== '' ? reason : 'connection closed';
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
