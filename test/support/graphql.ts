/** A tiny GraphQL-over-HTTP client for tests. */
export interface GraphQLResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }> };
}

export async function postGraphQL<T = Record<string, unknown>>(
  url: string,
  query: string,
  options: { variables?: Record<string, unknown>; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<GraphQLResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
    body: JSON.stringify({ query, variables: options.variables }),
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

/** A GraphQL operation over SSE (`accept: text/event-stream`), read to the end of the stream. */
export async function postGraphQLSse(
  url: string,
  query: string | undefined,
  options: { variables?: Record<string, unknown>; extensions?: Record<string, unknown>; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Headers; events: SseEvent[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...(options.headers ?? {}), 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query, variables: options.variables, extensions: options.extensions }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  return { status: response.status, headers: response.headers, events: parseSseEvents(await response.text()) };
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
