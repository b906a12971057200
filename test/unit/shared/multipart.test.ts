/**
 * The multipart writer (shared/http/multipart.ts) on a real HTTP server: the framing Apollo Client
 * reads, each part flushed at once (through compression too), heartbeats, and the stream's end on
 * the producer's return, a client that leaves, a server that stops and a producer that fails.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import compression from 'compression';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import {
  MultipartSpec,
  multipartContentType,
  writeMultipart,
  type MultipartEnd,
  type MultipartOptions,
} from '@trellis/kit/internal/http';
import { allMultipartParts, multipartParts } from '../../support/multipartParts';

type Producer = (signal: AbortSignal) => AsyncIterable<unknown>;

/** A promise and its resolver, to let a producer go on only when the test says so. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const opened = new Promise<T>((resolve) => (open = resolve));
  return { open, opened };
}

/** Resolves when `signal` aborts, with its reason. */
const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

describe('writeMultipart', () => {
  let server: Server;
  let base: string;
  let produce: Producer;
  let options: Partial<MultipartOptions>;
  let ended: Promise<MultipartEnd | Error>;

  beforeAll(async () => {
    const app = express();
    const serve = (_req: unknown, res: ServerResponse) => {
      ended = writeMultipart(res, produce, { spec: MultipartSpec.SUBSCRIPTION, ...options }).catch(
        (error: Error) => error,
      );
    };
    app.post('/plain', serve);
    // Compresses whatever it is given (threshold 0, any type): only a flush gets a part through at once.
    app.post('/compressed', compression({ threshold: 0, filter: () => true }), serve);
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    options = {};
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const open = (path = '/plain', signal?: AbortSignal) => fetch(`${base}${path}`, { method: 'POST', signal });

  it('writes each part after its headers and before the next delimiter, and closes with the closing delimiter', async () => {
    produce = async function* () {
      yield { payload: { data: { n: 1 } } };
      yield { payload: { data: { n: 2 } } };
    };
    const response = await open();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec=1.0');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    const part = (json: string) => `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--graphql`;
    expect(await response.text()).toBe(
      `\r\n--graphql${part('{"payload":{"data":{"n":1}}}')}${part('{"payload":{"data":{"n":2}}}')}--\r\n`,
    );
    expect(await ended).toBe('complete');
  });

  it('names each format in the Content-Type as Apollo Router does', () => {
    expect(multipartContentType(MultipartSpec.DEFER_20220824)).toBe(
      'multipart/mixed;boundary="graphql";deferSpec=20220824',
    );
    expect(multipartContentType(MultipartSpec.INCREMENTAL_V0_2)).toBe(
      'multipart/mixed;boundary="graphql";incrementalSpec=v0.2',
    );
  });

  it('is read by Apollo Client: every event in order, heartbeats skipped, then the end', async () => {
    options = { heartbeatMs: 5 };
    const client = new ApolloClient({ link: new HttpLink({ uri: `${base}/plain` }), cache: new InMemoryCache() });
    produce = async function* () {
      for (let n = 1; n <= 3; n++) {
        // Long enough between events for heartbeats to go out in between.
        await new Promise((resolve) => setTimeout(resolve, 30));
        yield { payload: { data: { tick: n } } };
      }
    };
    const ticks = await new Promise<unknown[]>((resolve, reject) => {
      const seen: unknown[] = [];
      client.subscribe({ query: gql('subscription { tick }') }).subscribe({
        next: (result) => seen.push(result.data),
        error: reject,
        complete: () => resolve(seen),
      });
    });
    expect(ticks).toEqual([{ tick: 1 }, { tick: 2 }, { tick: 3 }]);
    expect(await ended).toBe('complete');
    client.stop();
  });

  it.each(['/plain', '/compressed'])(
    '%s: flushes each part at once: the producer goes on only after the client read the part before',
    async (path) => {
      const read = gate();
      produce = async function* () {
        yield { n: 1 };
        await read.opened;
        yield { n: 2 };
      };
      const response = await open(path);
      expect(response.headers.get('content-encoding') !== null).toBe(path === '/compressed');
      const parts = multipartParts(response);
      expect((await parts.next()).value).toEqual({ n: 1 });
      read.open();
      expect((await parts.next()).value).toEqual({ n: 2 });
      expect((await parts.next()).done).toBe(true);
    },
  );

  it('writes a heartbeat {} in an interval in which no part went out', async () => {
    options = { heartbeatMs: 10 };
    const heard = gate();
    produce = async function* (signal) {
      yield { n: 1 };
      await heard.opened;
      yield { n: 2 };
      await aborted(signal);
    };
    const parts = multipartParts(await open());
    expect((await parts.next()).value).toEqual({ n: 1 });
    expect((await parts.next()).value).toEqual({});
    heard.open();
    // The heartbeat's timer keeps going after it: the next event still comes in its turn.
    let next = (await parts.next()).value;
    while (JSON.stringify(next) === '{}') next = (await parts.next()).value;
    expect(next).toEqual({ n: 2 });
    await parts.return(undefined);
    expect(await ended).toBe('disconnected');
  });

  it('writes no heartbeat in an interval in which a part went out', async () => {
    // Only setInterval is driven by the test (the heartbeat's timer): each tick happens when the test says.
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      options = { heartbeatMs: 1000 };
      const more = gate();
      produce = async function* () {
        yield { n: 1 };
        await more.opened;
        yield { n: 2 };
      };
      const parts = multipartParts(await open());
      expect((await parts.next()).value).toEqual({ n: 1 });
      jest.advanceTimersByTime(1000); // a part went out in this interval: no heartbeat
      jest.advanceTimersByTime(1000); // none did in this one: a heartbeat
      expect((await parts.next()).value).toEqual({});
      more.open();
      // Exactly one heartbeat came between the two parts.
      expect((await parts.next()).value).toEqual({ n: 2 });
      expect((await parts.next()).done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a client that leaves aborts the producer while it waits for its next value: its finally runs, told why', async () => {
    const cleaned = gate<unknown>();
    produce = async function* (signal) {
      try {
        yield { n: 1 };
        await aborted(signal);
      } finally {
        cleaned.open(signal.reason);
      }
    };
    const leave = new AbortController();
    const parts = multipartParts(await open('/plain', leave.signal));
    expect((await parts.next()).value).toEqual({ n: 1 });
    leave.abort();
    expect(await cleaned.opened).toBe('disconnected');
    expect(await ended).toBe('disconnected');
  });

  it('a stop ends the stream with the closing part and the closing delimiter, and aborts the producer', async () => {
    const stop = new AbortController();
    const producerSaw = gate<unknown>();
    options = {
      stop: stop.signal,
      closingPart: (reason) => ({ payload: null, errors: [{ message: String(reason) }] }),
    };
    produce = async function* (signal) {
      yield { n: 1 };
      producerSaw.open(await aborted(signal));
    };
    const response = await open();
    const parts = multipartParts(response);
    expect((await parts.next()).value).toEqual({ n: 1 });
    stop.abort('gateway stopping');
    expect((await parts.next()).value).toEqual({ payload: null, errors: [{ message: 'gateway stopping' }] });
    expect((await parts.next()).done).toBe(true);
    expect(await ended).toBe('stopped');
    expect(await producerSaw.opened).toBe('stopped');
  });

  it('a stream asked for after the stop closes at once', async () => {
    const stop = new AbortController();
    stop.abort('gone');
    options = { stop: stop.signal };
    produce = async function* () {
      yield { n: 1 };
    };
    expect(await allMultipartParts(await open())).toEqual([]);
    expect(await ended).toBe('stopped');
  });

  it('a producer that fails: its failure part, then a clean close', async () => {
    options = { failurePart: (error) => ({ payload: null, errors: [{ message: (error as Error).message }] }) };
    produce = async function* () {
      yield { n: 1 };
      throw new Error('upstream gone');
    };
    expect(await allMultipartParts(await open())).toEqual([
      { n: 1 },
      { payload: null, errors: [{ message: 'upstream gone' }] },
    ]);
    expect(await ended).toBe('failed');
  });

  it('a producer that fails without a failure part: the body is cut short and the writer rejects', async () => {
    const read = gate();
    produce = async function* () {
      yield { n: 1 };
      await read.opened;
      throw new Error('upstream gone');
    };
    const parts = multipartParts(await open());
    expect((await parts.next()).value).toEqual({ n: 1 });
    read.open();
    await expect(parts.next()).rejects.toThrow();
    expect(await ended).toEqual(new Error('upstream gone'));
  });
});
