/**
 * The dev hub: hosts the embedded (in-memory) discovery, state store and event bus in the
 * launcher process and serves them to the platform's other processes over a WebSocket, so
 * separate processes share one embedded backend without any outside server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../logging';
import { listen } from '../http/listen';
import { isCallbackRef, toWireError, type Frame, type HandleRef } from './protocol';

export interface DevHubServerOptions {
  /** Objects whose methods clients may call, by name (`discovery`, `state`, `events`). */
  targets: Record<string, object>;
  host?: string;
  port?: number;
  logger?: Logger;
}

type Disposable = (() => unknown) | { [method: string]: unknown };

export class DevHubServer {
  private server?: Server;
  private wss?: WebSocketServer;
  private url?: string;

  constructor(private readonly options: DevHubServerOptions) {}

  async start(): Promise<string> {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', targets: Object.keys(this.options.targets) }));
    });
    const wss = new WebSocketServer({ server, maxPayload: 16 * 1024 * 1024 });
    wss.on('connection', (socket) => this.serve(socket));
    // ws re-emits the HTTP server's errors on the WebSocketServer: unheard, a port already in use
    // crashed the launcher with an unhandled 'error' event instead of failing start() with its reason.
    wss.on('error', () => undefined);
    await listen(server, this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    this.server = server;
    this.wss = wss;
    const { address, port } = server.address() as AddressInfo;
    this.url = `ws://${address}:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const client of this.wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private serve(socket: WebSocket): void {
    const handles = new Map<number, Disposable>();
    const pendingCallbacks = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    let nextId = 1;
    const send = (frame: Frame) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(frame));

    const revive = (value: unknown): unknown => {
      if (isCallbackRef(value)) {
        return (...cbArgs: unknown[]) =>
          new Promise((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return reject(new Error('dev hub client disconnected'));
            const id = nextId++;
            pendingCallbacks.set(id, { resolve, reject });
            send({ t: 'cb', id, cb: value.$cb, args: cbArgs });
          });
      }
      if (Array.isArray(value)) return value.map(revive);
      if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, revive(inner)]));
      }
      return value;
    };
    const reviveArgs = (args: unknown[]) => args.map(revive);

    const wrapResult = (result: unknown): unknown => {
      const isFunction = typeof result === 'function';
      const methods =
        !isFunction && result && typeof result === 'object'
          ? Object.keys(result).filter((key) => typeof (result as Record<string, unknown>)[key] === 'function')
          : [];
      if (!isFunction && methods.length === 0) return result;
      const handle = nextId++;
      handles.set(handle, result as Disposable);
      const ref: HandleRef = { $handle: handle, methods };
      return ref;
    };

    const invoke = async (frame: Extract<Frame, { t: 'call' } | { t: 'handle' }>): Promise<unknown> => {
      const owner = frame.t === 'call' ? this.options.targets[frame.target] : handles.get(frame.handle);
      if (!owner) throw new Error(frame.t === 'call' ? `unknown target ${frame.target}` : `unknown handle ${frame.handle}`);
      const args = reviveArgs(frame.args);
      if (typeof owner === 'function') {
        if (frame.t === 'handle') handles.delete(frame.handle);
        return owner(...args);
      }
      const method = (owner as Record<string, unknown>)[frame.method];
      if (typeof method !== 'function' || frame.method.startsWith('_') || frame.method === 'constructor') {
        throw new Error(`unknown method ${frame.method}`);
      }
      return method.apply(owner, args);
    };

    socket.on('message', (data) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(data)) as Frame;
      } catch {
        return;
      }
      if (frame.t === 'cbResult') {
        const pending = pendingCallbacks.get(frame.id);
        pendingCallbacks.delete(frame.id);
        if (frame.error) pending?.reject(Object.assign(new Error(frame.error.message), frame.error));
        else pending?.resolve(frame.result);
        return;
      }
      if (frame.t !== 'call' && frame.t !== 'handle') return;
      invoke(frame).then(
        (result) => send({ t: 'result', id: frame.id, result: wrapResult(result) }),
        (error) => send({ t: 'result', id: frame.id, error: toWireError(error) }),
      );
    });

    socket.on('close', () => {
      for (const pending of pendingCallbacks.values()) pending.reject(new Error('dev hub client disconnected'));
      pendingCallbacks.clear();
      // A client that went away leaves no watcher or subscription behind.
      for (const handle of handles.values()) {
        const dispose = typeof handle === 'function' ? handle : (handle.stop as (() => unknown) | undefined);
        Promise.resolve()
          .then(() => dispose?.call(handle))
          .catch((error) => this.options.logger?.warn({ err: error }, 'dev hub handle cleanup failed'));
      }
      handles.clear();
    });
  }
}
