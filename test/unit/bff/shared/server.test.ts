/** A BFF's HTTP server: where it listens, when it is ready, and what its stop does in which order. */
import express from 'express';
import { BffServer } from '../../../../bff/shared';
import { recordingLogger } from '../../../support/loopback';

describe('BffServer', () => {
  it('listens on the given host, reports ready once serving, logs its URL', async () => {
    const { logger, lines } = recordingLogger();
    const server = new BffServer(express().get('/x', (_req, res) => void res.send('hi')), { name: 'web-bff', host: '127.0.0.1', graceMs: 1000, logger });
    expect(server.isReady()).toBe(false);
    const url = await server.start(0);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.isReady()).toBe(true);
    expect(await (await fetch(`${url}/x`)).text()).toBe('hi');
    expect(lines).toEqual([expect.objectContaining({ level: 'info', msg: 'web-bff serving', url })]);
    await server.stop();
    expect(server.isReady()).toBe(false);
    await expect(fetch(`${url}/x`)).rejects.toThrow();
  });

  it('answers on 127.0.0.1 when bound to every interface', async () => {
    const server = new BffServer(express(), { name: 'b', host: '0.0.0.0', graceMs: 1000, logger: recordingLogger().logger });
    const url = await server.start(0);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.httpServer.address()).toMatchObject({ address: '0.0.0.0' });
    } finally {
      await server.stop();
    }
  });

  it('names its own host in the URL when bound to one address', async () => {
    const server = new BffServer(express(), { name: 'b', host: 'localhost', graceMs: 1000, logger: recordingLogger().logger });
    const url = await server.start(0);
    try {
      expect(url).toMatch(/^http:\/\/localhost:\d+$/);
    } finally {
      await server.stop();
    }
  });

  it('applies the configured HTTP timeouts', async () => {
    const server = new BffServer(express(), { name: 'b', host: '127.0.0.1', graceMs: 1000, logger: recordingLogger().logger, timeouts: { keepAliveMs: 1234, headersMs: 2345, requestMs: 3456 } });
    await server.start(0);
    try {
      expect([server.httpServer.keepAliveTimeout, server.httpServer.headersTimeout, server.httpServer.requestTimeout]).toEqual([1234, 2345, 3456]);
    } finally {
      await server.stop();
    }
  });

  it('on stop, reports not ready first, runs its closers in order, then lets an in-flight request finish', async () => {
    const events: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const app = express().get('/slow', async (_req, res) => {
      arrived();
      await released;
      res.send('done');
    });
    const server = new BffServer(app, { name: 'b', host: '127.0.0.1', graceMs: 60_000, logger: recordingLogger().logger });
    const url = await server.start(0);
    server.onStop(async () => void events.push(`first (ready: ${server.isReady()})`));
    server.onStop(async () => {
      events.push('second');
      release();
    });
    const answer = fetch(`${url}/slow`).then((r) => r.text());
    await inFlight;
    await server.stop();
    expect(events).toEqual(['first (ready: false)', 'second']);
    expect(await answer).toBe('done');
  });

  it('cuts a request still running when the grace ends', async () => {
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const app = express().get('/hang', () => arrived());
    const server = new BffServer(app, { name: 'b', host: '127.0.0.1', graceMs: 50, logger: recordingLogger().logger });
    const url = await server.start(0);
    const answer = fetch(`${url}/hang`);
    await inFlight;
    await server.stop();
    await expect(answer).rejects.toThrow();
  });
});
