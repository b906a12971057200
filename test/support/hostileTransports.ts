/**
 * The three ways a hostile input reaches a GraphQL endpoint (HTTP, SSE, graphql-ws), each timed and
 * read back into one shape, so the gateway's and a subgraph's hostile-input tests send the same way.
 */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { parseSseEvents } from './graphql';
import type { HostileOperation } from './hostileInputs';

export interface Answer {
  ms: number;
  /** HTTP status (HTTP, SSE) or the socket's close code when it was closed on us (graphql-ws). */
  status?: number;
  closeCode?: number;
  /** A batch answered operation by operation: how many answers. */
  answers?: number;
  data?: unknown;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export type Send = (url: string, request: HostileOperation | HostileOperation[]) => Promise<Answer>;

const timed = async (send: () => Promise<Omit<Answer, 'ms'>>): Promise<Answer> => {
  const started = performance.now();
  const answer = await send();
  return { ...answer, ms: performance.now() - started };
};

export const overHttp: Send = (url, request) =>
  timed(async () => {
    // The catalog's `httpStatus` is under application/graphql-response+json (a request error 400; application/json answers it 200).
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await response.json()) as Answer | Answer[];
    // A batch answers with one body per operation; a refused batch with one body.
    const single = Array.isArray(body) ? { data: body.some((item) => item.data) ? body.map((item) => item.data) : undefined, errors: body.flatMap((item) => item.errors ?? []) } : body;
    return { status: response.status, data: single.data, errors: single.errors?.length ? single.errors : undefined, ...(Array.isArray(body) ? { answers: body.length } : {}) };
  });

export const overSse: Send = (url, request) =>
  timed(async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    // A request refused before its stream opens (a body over the limit) is answered as on HTTP.
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return { status: response.status, ...(JSON.parse(text) as Pick<Answer, 'data' | 'errors'>) };
    const events = parseSseEvents(text);
    const next = events.filter((event) => event.event === 'next');
    expect(next).toHaveLength(1);
    expect(events.at(-1)?.event).toBe('complete');
    return { status: response.status, ...(next[0]!.data as Pick<Answer, 'data' | 'errors'>) };
  });

export const overWebSocket: Send = (url, request) =>
  timed(async () => {
    const client = createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const results: Array<Pick<Answer, 'data' | 'errors'>> = [];
      try {
        for await (const result of client.iterate(request as HostileOperation)) results.push(result as Pick<Answer, 'data' | 'errors'>);
      } catch (error) {
        if (Array.isArray(error)) return { errors: error as Answer['errors'] };
        return { closeCode: (error as { code?: number }).code };
      }
      expect(results).toHaveLength(1);
      return results[0]!;
    } finally {
      await client.dispose();
    }
  });
