/**
 * Every hostile input of the catalogue (test/support/hostileInputs.ts), sent for real to a gateway
 * over the example subgraphs on HTTP, SSE and graphql-ws: each is refused with its code, fast,
 * while a normal query sent alongside on the same transport is still answered fast. "Fast" is a
 * bound generous enough for a loaded machine and far below what an expanding check costs (the
 * 19-level fragment fan-out once took 23 s on HTTP, stalling every other request).
 */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { parseSseEvents } from '../../support/graphql';
import { hostileInputs, isBatch, normalQuery, type HostileInput, type HostileOperation } from '../../support/hostileInputs';
import { startStaticPlatform, type StaticPlatform } from '../../support/staticPlatform';

/** Per request, attack or normal query alike. */
const FAST_MS = 2000;
/** Per request, while every attack is sent at once. */
const STORM_MS = 8000;

interface Answer {
  ms: number;
  /** HTTP status (HTTP, SSE) or the socket's close code when it was closed on us (graphql-ws). */
  status?: number;
  closeCode?: number;
  /** A batch answered operation by operation: how many answers. */
  answers?: number;
  data?: unknown;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

type Send = (url: string, request: HostileOperation | HostileOperation[]) => Promise<Answer>;

const timed = async (send: () => Promise<Omit<Answer, 'ms'>>): Promise<Answer> => {
  const started = performance.now();
  const answer = await send();
  return { ...answer, ms: performance.now() - started };
};

const overHttp: Send = (url, request) =>
  timed(async () => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal: AbortSignal.timeout(60_000) });
    const body = (await response.json()) as Answer | Answer[];
    // A batch answers with one body per operation; a refused batch with one body.
    const single = Array.isArray(body) ? { data: body.some((item) => item.data) ? body.map((item) => item.data) : undefined, errors: body.flatMap((item) => item.errors ?? []) } : body;
    return { status: response.status, data: single.data, errors: single.errors?.length ? single.errors : undefined, ...(Array.isArray(body) ? { answers: body.length } : {}) };
  });

const overSse: Send = (url, request) =>
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

const overWebSocket: Send = (url, request) =>
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

const transports: Array<[string, Send]> = [
  ['HTTP', overHttp],
  ['SSE', overSse],
  ['graphql-ws', overWebSocket],
];

const cases = transports.flatMap(([transport, send]) =>
  hostileInputs()
    .filter((input) => transport === 'HTTP' || !isBatch(input))
    .map((input) => ({ transport, send, input, name: input.name })),
);

describe('hostile inputs on HTTP, SSE and graphql-ws', () => {
  let platform: StaticPlatform;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    platform = await startStaticPlatform();
    // Warm up each transport: the first query plans and connects.
    for (const [, send] of transports) expect((await send(platform.url, normalQuery())).errors).toBeUndefined();
  });

  afterAll(async () => {
    await platform?.stop();
    console.log(`refusal times (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([name, ms]) => [name, Math.round(ms)])))}`);
  });

  it.each(cases)('$transport: $name is refused fast with its code, and a normal query alongside is answered fast', async ({ transport, send, input }) => {
    const [refused, normal] = await Promise.all([send(platform.url, input.request), send(platform.url, normalQuery())]);
    timings[`${transport} ${input.name}`] = refused.ms;
    expectRefused(transport, input, refused);
    expect(normal.errors).toBeUndefined();
    expect((normal.data as { users: unknown[] }).users).toEqual(expect.arrayContaining([{ name: expect.any(String) }]));
    expect(refused.ms).toBeLessThan(FAST_MS);
    expect(normal.ms).toBeLessThan(FAST_MS);
  });

  it('every attack on every transport at once: each refused, and normal queries sent meanwhile are answered', async () => {
    const attacks = cases.map(({ transport, send, input }) => send(platform.url, input.request).then((answer) => ({ transport, input, answer })));
    const normals = transports.flatMap(([, send]) => Array.from({ length: 3 }, () => send(platform.url, normalQuery())));
    const [refused, answered] = await Promise.all([Promise.all(attacks), Promise.all(normals)]);
    for (const { transport, input, answer } of refused) expectRefused(transport, input, answer);
    for (const normal of answered) {
      expect(normal.errors).toBeUndefined();
      // A storm of ~45 requests on a loaded machine: generous, and still far below one expanding check (23 s).
      expect(normal.ms).toBeLessThan(STORM_MS);
    }
  });
});

function expectRefused(transport: string, input: HostileInput, answer: Answer): void {
  if (transport === 'graphql-ws' && input.webSocketClose) {
    expect(answer.closeCode).toBe(input.webSocketClose);
    return;
  }
  expect(answer.closeCode).toBeUndefined();
  expect(answer.data ?? undefined).toBeUndefined();
  expect(answer.errors?.[0]?.extensions?.code).toBe(input.code);
  // A batch refused operation by operation: every one of them.
  if (answer.answers !== undefined) expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(Array.from({ length: answer.answers }, () => input.code));
  // graphql-js says only "Validation aborted."; the gateway says why.
  if (input.name.startsWith('repeated')) expect(answer.errors?.[0]?.message).toMatch(/^validation stopped: the operation repeats the same fields/);
  if (transport !== 'graphql-ws' && answer.status !== 200) expect(answer.status).toBe(input.httpStatus);
  if (transport === 'HTTP') expect(answer.status).toBe(input.httpStatus);
}
