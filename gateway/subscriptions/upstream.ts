/**
 * The gateway's side of a forwarded subscription: graphql-ws to a healthy instance of the owning
 * subgraph, as an async iterator. If the instance goes away mid-stream, it reconnects to another
 * (the subgraph's subscription starts with a snapshot, so nothing is missed).
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { ServiceInstance } from '../../shared/discovery';

export interface UpstreamOptions {
  subgraph: string;
  instances: () => ServiceInstance[];
  query: string;
  variables: Record<string, unknown>;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export async function* openUpstream(options: UpstreamOptions): AsyncGenerator<ExecutionResult> {
  let next = 0;
  const pickUrl = () => {
    const instances = options.instances();
    if (instances.length === 0) throw new Error(`no healthy instance of ${options.subgraph}`);
    const instance = instances[next++ % instances.length];
    return instance.url.replace(/^http/, 'ws');
  };
  let client: Client;
  try {
    client = createClient({
      url: pickUrl,
      webSocketImpl: WebSocket,
      connectionParams: { headers: options.headers },
      retryAttempts: 3,
      lazy: true,
    });
  } catch (error) {
    yield unavailable(options.subgraph, (error as Error).message);
    return;
  }
  const iterator = client.iterate<Record<string, unknown>>({ query: options.query, variables: options.variables });
  const abort = () => void iterator.return?.();
  options.signal?.addEventListener('abort', abort);
  try {
    for await (const result of iterator) yield result as ExecutionResult;
  } catch (error) {
    yield unavailable(options.subgraph, error instanceof Error ? error.message : 'connection closed');
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await client.dispose();
  }
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
