/**
 * A port already taken fails start-up with a sentence naming the address and the reason, never an
 * unhandled 'error' event: the dev hub (a WebSocketServer on its own HTTP server) crashed the
 * launcher that way when its port was in use.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '@trellis/kit/internal/http/listen';
import { DevHubServer } from '@trellis/kit/internal/devhub';
import { InMemoryDiscovery } from '@trellis/kit/internal/discovery';

describe('listening on a port another process holds', () => {
  let holder: Server;
  let port: number;

  beforeAll(async () => {
    holder = createServer();
    port = await listen(holder, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  });

  it('rejects with the address, the reason and the errno code', async () => {
    const error = await listen(createServer(), port, '127.0.0.1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`cannot listen on 127.0.0.1:${port}: the port is already in use (another process, or another Trellis, holds it)`);
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it('resolves with the port it bound, a free one for port 0', async () => {
    const server = createServer();
    const bound = await listen(server, 0, '127.0.0.1');
    expect(bound).toBe((server.address() as AddressInfo).port);
    expect(bound).not.toBe(port);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fails the dev hub start with that error instead of crashing the process', async () => {
    const hub = new DevHubServer({ targets: { discovery: new InMemoryDiscovery() }, port });
    await expect(hub.start()).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: the port is already in use`);
    await hub.stop();
  });
});
