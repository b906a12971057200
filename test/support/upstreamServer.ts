/**
 * A real graphql-ws server in-process, standing for a subgraph instance: `status(id)` starts with
 * a snapshot, then sends what the test pushes. It counts sockets, connection_inits (with their
 * headers), subscribe and complete messages, and emits `change` on each, so tests wait on events.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { buildSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { ServiceInstance } from '../../shared/discovery';

const schema = buildSchema(/* GraphQL */ `
  type Query { ok: Boolean }
  type Subscription { status(id: ID!): String! }
`);

export interface UpstreamStats {
  /** Sockets opened, ever. */
  sockets: number;
  /** Sockets open now. */
  open: number;
  /** The `headers` of each connection_init, in order. */
  inits: Array<Record<string, string>>;
  subscribes: number;
  /** Subscriptions ended by the gateway (a complete message, or its socket closing). */
  completes: number;
}

export class UpstreamServer extends EventEmitter {
  readonly stats: UpstreamStats = { sockets: 0, open: 0, inits: [], subscribes: 0, completes: 0 };
  private readonly feed = new EventEmitter();
  private server?: Server;
  private wss?: WebSocketServer;
  url = '';

  constructor(readonly name = 'status') {
    super();
    this.feed.setMaxListeners(0);
  }

  async start(): Promise<this> {
    const server = createServer();
    const wss = new WebSocketServer({ server, path: '/graphql' });
    wss.on('connection', (socket) => {
      this.count(() => (this.stats.sockets++, this.stats.open++));
      socket.on('close', () => this.count(() => this.stats.open--));
    });
    const label = this.name;
    const feed = this.feed;
    useServer(
      {
        schema,
        roots: {
          subscription: {
            status: ({ id }: { id: string }) => statusStream(feed, id, `${label}:${id}:snapshot`),
          },
        },
        onConnect: (ctx) => void this.count(() => this.stats.inits.push(((ctx.connectionParams ?? {}) as { headers: Record<string, string> }).headers)),
        onSubscribe: () => void this.count(() => this.stats.subscribes++),
        onComplete: () => void this.count(() => this.stats.completes++),
      },
      wss,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.wss = wss;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    return this;
  }

  get instance(): ServiceInstance {
    return { id: `${this.name}-${this.url}`, name: 'status', url: this.url, meta: {}, healthy: true };
  }

  /** Sends `value` to every subscription on `id`. */
  push(id: string, value: string): void {
    this.feed.emit(id, value);
  }

  /** Resolves once `predicate` holds (checked now and on every change). */
  until(predicate: (stats: UpstreamStats) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate(this.stats)) return;
        this.off('change', check);
        resolve();
      };
      this.on('change', check);
      check();
    });
  }

  /** Goes away as a crashed instance does: every socket cut, the port closed. */
  async kill(): Promise<void> {
    for (const socket of this.wss?.clients ?? []) socket.terminate();
    await new Promise<void>((resolve) => this.wss!.close(() => resolve()));
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private count(update: () => unknown): void {
    update();
    this.emit('change');
  }
}

/** The snapshot, then each value pushed; `return()` ends it at once (an async generator's would wait for the next value). */
function statusStream(feed: EventEmitter, id: string, snapshot: string): AsyncIterableIterator<{ status: string }> {
  const queue = [snapshot];
  let isDone = false;
  let wake: (() => void) | undefined;
  const listener = (value: string) => {
    queue.push(value);
    wake?.();
  };
  feed.on(id, listener);
  const iterator: AsyncIterableIterator<{ status: string }> = {
    next: async () => {
      while (queue.length === 0 && !isDone) await new Promise<void>((resolve) => (wake = resolve));
      return isDone ? { done: true, value: undefined } : { done: false, value: { status: queue.shift()! } };
    },
    return: async () => {
      isDone = true;
      feed.off(id, listener);
      wake?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
