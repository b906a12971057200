import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchSubgraphSdl } from '../../../../gateway/supergraph/fetchSdl';
import { TrellisError } from '@trellis/kit';

interface Seen {
  method?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('fetchSubgraphSdl', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function subgraph(answer: (response: ServerResponse) => void) {
    const seen: Seen[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ method: request.method, headers: request.headers, body });
        answer(response);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, seen };
  }

  const json = (status: number, body: unknown) => (response: ServerResponse) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  async function refusal(promise: Promise<unknown>): Promise<TrellisError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TrellisError);
    expect(error).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', retriable: true });
    return error as TrellisError;
  }

  it('asks _service { sdl } with a CSRF-preflight header and answers the SDL', async () => {
    const { url, seen } = await subgraph(json(200, { data: { _service: { sdl: 'type Query { a: Int }' } } }));
    await expect(fetchSubgraphSdl(url, 1000)).resolves.toBe('type Query { a: Int }');
    expect(seen).toEqual([
      {
        method: 'POST',
        headers: expect.objectContaining({ 'content-type': 'application/json', 'apollo-require-preflight': 'true' }),
        body: JSON.stringify({ query: 'query TrellisSubgraphSdl { _service { sdl } }' }),
      },
    ]);
  });

  it('refuses a non-2xx answer even when it carries an SDL, naming the status', async () => {
    const { url } = await subgraph(json(500, { data: { _service: { sdl: 'type Query { a: Int }' } } }));
    expect((await refusal(fetchSubgraphSdl(url, 1000))).message).toBe(`${url} answered 500 without an SDL`);
  });

  it.each([
    ['a body that is not JSON', 'not json'],
    ['no data', { errors: [{ message: 'Cannot query field "_service"' }] }],
    ['no _service', { data: {} }],
    ['an SDL that is not a string', { data: { _service: { sdl: 42 } } }],
    ['null', 'null'],
  ])('refuses %s', async (_case, body) => {
    const { url } = await subgraph(json(200, body));
    expect((await refusal(fetchSubgraphSdl(url, 1000))).message).toBe(`${url} answered 200 without an SDL`);
  });

  it('refuses an instance that is not listening, with the cause', async () => {
    const { url } = await subgraph(json(200, {}));
    await closers.pop()!();
    const error = await refusal(fetchSubgraphSdl(url, 1000));
    expect(error.message).toMatch(new RegExp(`^cannot fetch SDL from ${url}: `));
    expect(error.message).toContain((error.cause as Error).message);
  });

  it('gives up on an instance that does not answer within the timeout', async () => {
    const { url, seen } = await subgraph(() => undefined);
    const error = await refusal(fetchSubgraphSdl(url, 50));
    expect(error.message).toMatch(/timeout|aborted/i);
    expect(seen).toHaveLength(1);
  });
});
