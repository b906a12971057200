/** Client side of the dev hub: typed proxies whose method calls run on the hub's embedded backends. */
import WebSocket from 'ws';
import { BackendUnavailableError, TrellisError } from '../errors';
import { isHandleRef, toWireError, type Frame, type WireError } from './protocol';

export interface DevHubClientOptions {
  /** A call with no answer after this long fails with BACKEND_UNAVAILABLE. */
  callTimeoutMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class DevHubClient {
  private readonly pending = new Map<number, Pending>();
  private readonly callbacks = new Map<number, (...args: unknown[]) => unknown>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly socket: WebSocket,
    private readonly callTimeoutMs: number,
  ) {
    socket.on('message', (data) => this.onFrame(JSON.parse(String(data)) as Frame));
    socket.on('close', () => this.failAll('connection closed'));
    socket.on('error', () => this.failAll('connection error'));
  }

  static async connect(url: string, options: DevHubClientOptions = {}): Promise<DevHubClient> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', (error) => reject(new BackendUnavailableError('dev hub', `cannot connect to ${url}`, error)));
    });
    return new DevHubClient(socket, options.callTimeoutMs ?? 10_000);
  }

  /** A proxy for the hub's target: every method call becomes a remote call. */
  remote<T extends object>(target: string): T {
    return new Proxy({} as T, {
      get: (_object, method) =>
        typeof method === 'string' && method !== 'then'
          ? (...args: unknown[]) => this.request({ t: 'call', id: 0, target, method, args: this.encodeArgs(args) })
          : undefined,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.socket.close();
  }

  /** Functions anywhere in the arguments (e.g. `subscribe({ handler })`) become callback refs. */
  private encodeArgs(args: unknown[]): unknown[] {
    const encode = (value: unknown): unknown => {
      if (typeof value === 'function') {
        const id = this.nextId++;
        this.callbacks.set(id, value as (...a: unknown[]) => unknown);
        return { $cb: id };
      }
      if (Array.isArray(value)) return value.map(encode);
      if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, encode(inner)]));
      }
      return value;
    };
    return args.map(encode);
  }

  private request(frame: Extract<Frame, { t: 'call' } | { t: 'handle' }>): Promise<unknown> {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new BackendUnavailableError('dev hub', 'not connected'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BackendUnavailableError('dev hub', `no answer within ${this.callTimeoutMs} ms`));
      }, this.callTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  private onFrame(frame: Frame): void {
    if (frame.t === 'result') {
      const pending = this.pending.get(frame.id);
      if (!pending) return;
      this.pending.delete(frame.id);
      clearTimeout(pending.timer);
      if (frame.error) pending.reject(reviveError(frame.error));
      else pending.resolve(this.decodeResult(frame.result));
    } else if (frame.t === 'cb') {
      const callback = this.callbacks.get(frame.cb);
      Promise.resolve()
        .then(() => {
          if (!callback) throw new Error(`unknown callback ${frame.cb}`);
          return callback(...frame.args);
        })
        .then(
          (result) => this.send({ t: 'cbResult', id: frame.id, result: result ?? null }),
          (error) => this.send({ t: 'cbResult', id: frame.id, error: toWireError(error) }),
        );
    }
  }

  private decodeResult(result: unknown): unknown {
    if (!isHandleRef(result)) return result;
    const handle = result.$handle;
    const call = (method: string, args: unknown[]) =>
      this.request({ t: 'handle', id: 0, handle, method, args: this.encodeArgs(args) });
    if (result.methods.length === 0) return (...args: unknown[]) => call('', args);
    return Object.fromEntries(result.methods.map((method) => [method, (...args: unknown[]) => call(method, args)]));
  }

  private send(frame: Frame): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private failAll(reason: string): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new BackendUnavailableError('dev hub', reason));
    }
    this.pending.clear();
  }
}

function reviveError(error: WireError): Error {
  return new TrellisError(error.code ?? 'INTERNAL_SERVER_ERROR', error.message, { retriable: error.retriable });
}
