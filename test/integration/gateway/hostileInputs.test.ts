/**
 * Every hostile input of the catalogue (test/support/hostileInputs.ts), sent for real to a gateway
 * over the example subgraphs on HTTP, SSE and graphql-ws: each is refused with its code, fast,
 * while a normal query sent alongside on the same transport is still answered fast. "Fast" is a
 * bound generous enough for a loaded machine and far below what an expanding check costs (the
 * 19-level fragment fan-out once took 23 s on HTTP, stalling every other request).
 */
import { overHttp, overSse, overWebSocket, type Answer, type Send } from '../../support/hostileTransports';
import { hostileInputs, isBatch, normalQuery, type HostileInput } from '../../support/hostileInputs';
import { startStaticPlatform, type StaticPlatform } from '../../support/staticPlatform';

/** Per request, attack or normal query alike. */
const FAST_MS = 2000;
/** Per request, while every attack is sent at once. */
const STORM_MS = 8000;

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

  it('graphql-ws: a frame past the payload limit is closed with 1009 and writes nothing to stderr', async () => {
    // ws closes the socket with 1009 and emits the error; graphql-ws logged every one as an
    // "Internal error" with its stack, which let any client write to the gateway's stderr at will
    // (quietClientProtocolErrors, shared/http/webSocketErrors.ts). The server's error handlers
    // run before the close frame is sent, so by the time the client has its close, they have run.
    const logged = jest.spyOn(console, 'error');
    try {
      for (const input of hostileInputs().filter((candidate) => candidate.webSocketClose === 1009)) {
        expect((await overWebSocket(platform.url, input.request)).closeCode).toBe(1009);
      }
      expect(logged.mock.calls.map(([message]) => String(message))).not.toContainEqual(expect.stringContaining('Internal error emitted on a WebSocket socket'));
    } finally {
      logged.mockRestore();
    }
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
