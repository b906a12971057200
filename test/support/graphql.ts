/** A tiny GraphQL client for tests: over HTTP, SSE and graphql-ws. */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';

export interface GraphQLResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }> };
}

export async function postGraphQL<T = Record<string, unknown>>(
  url: string,
  query: string,
  options: { variables?: Record<string, unknown>; operationName?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<GraphQLResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
    body: JSON.stringify({ query, variables: options.variables, operationName: options.operationName }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResult<T>['body'] };
}

export interface SseEvent {
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The events of a finished Server-Sent Events stream, in order (`data` parsed as JSON when present). */
export function parseSseEvents(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('event:'))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = /^data: ?(.*)$/m.exec(block)?.[1] ?? '';
      return { event, data: data ? JSON.parse(data) : undefined };
    });
}

/**
 * A GraphQL operation over SSE (`accept: text/event-stream`), read to the end of the stream. A
 * request refused before its stream opens (no event stream) has its JSON answer in `body`.
 */
export async function postGraphQLSse(
  url: string,
  query: string | undefined,
  options: { variables?: Record<string, unknown>; operationName?: string; extensions?: Record<string, unknown>; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Headers; events: SseEvent[]; body?: GraphQLResult['body'] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...(options.headers ?? {}), 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query, variables: options.variables, operationName: options.operationName, extensions: options.extensions }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) return { status: response.status, headers: response.headers, events: parseSseEvents(text) };
  return { status: response.status, headers: response.headers, events: [], body: jsonOrUndefined(text) };
}

const jsonOrUndefined = (text: string): GraphQLResult['body'] | undefined => {
  try {
    return JSON.parse(text) as GraphQLResult['body'];
  } catch {
    return undefined;
  }
};

/**
 * A GraphQL operation over graphql-ws, on its own connection (the caller's `headers` in
 * `connectionParams`, as clients send them): every result until the server completes it, or the
 * errors of an `error` message as one result.
 */
export async function runGraphQLWs(
  url: string,
  query: string,
  options: { variables?: Record<string, unknown>; operationName?: string; headers?: Record<string, string> } = {},
): Promise<Array<GraphQLResult['body']>> {
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { headers: options.headers ?? {} }, retryAttempts: 0, lazy: true });
  const results: Array<GraphQLResult['body']> = [];
  try {
    for await (const result of client.iterate({ query, variables: options.variables, operationName: options.operationName })) results.push(result as GraphQLResult['body']);
  } catch (error) {
    // graphql-ws rejects with the `error` message's GraphQL errors; anything else (a close) is the test's failure.
    if (!Array.isArray(error)) throw error;
    results.push({ errors: error as NonNullable<GraphQLResult['body']['errors']> });
  } finally {
    await client.dispose();
  }
  return results;
}

/** Retries `check` until it returns without throwing, or rethrows its last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
