/**
 * Tracing around any StateStore: a client span per call with the database conventions (db.*), so
 * a request's or a saga's Redis round trips show in its trace. Wrapped only when tracing is on.
 */
import { SpanKind } from '@opentelemetry/api';
import { inSpan, type Attributes } from '../telemetry/spans';
import type { StateStore } from './types';

export const STATE_ATTRIBUTES = {
  system: 'db.system.name',
  operation: 'db.operation.name',
  namespace: 'db.namespace',
  batchSize: 'db.operation.batch.size',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  key: 'trellis.state.key',
} as const;

export interface TracedStateOptions {
  /** What `db.system.name` says: `redis`, or `trellis` for the in-process and dev hub stores. */
  system: string;
  /** The Redis URL, for server.address / server.port / db.namespace. */
  url?: string;
}

export function tracedStateStore(store: StateStore, { system, url }: TracedStateOptions): StateStore {
  const base: Attributes = { [STATE_ATTRIBUTES.system]: system };
  if (url && URL.canParse(url)) {
    const parsed = new URL(url);
    base[STATE_ATTRIBUTES.serverAddress] = parsed.hostname;
    base[STATE_ATTRIBUTES.serverPort] = Number(parsed.port || 6379);
    base[STATE_ATTRIBUTES.namespace] = parsed.pathname.replace(/^\//, '') || '0';
  }
  const call = <T>(operation: string, extra: Attributes, work: () => Promise<T>): Promise<T> =>
    inSpan(operation, { kind: SpanKind.CLIENT, attributes: { ...base, [STATE_ATTRIBUTES.operation]: operation, ...extra } }, work);
  const keyed = (key: string): Attributes => ({ [STATE_ATTRIBUTES.key]: key });
  return {
    get: (key) => call('get', keyed(key), () => store.get(key)),
    set: (key, value, options) => call('set', keyed(key), () => store.set(key, value, options)),
    setIfAbsent: (key, value, options) => call('setIfAbsent', keyed(key), () => store.setIfAbsent(key, value, options)),
    delete: (key) => call('delete', keyed(key), () => store.delete(key)),
    increment: (key, windowMs) => call('increment', keyed(key), () => store.increment(key, windowMs)),
    getVersioned: (key) => call('getVersioned', keyed(key), () => store.getVersioned(key)),
    getVersionedMany: (keys) => call('getVersionedMany', { [STATE_ATTRIBUTES.batchSize]: keys.length }, () => store.getVersionedMany(keys)),
    compareAndSet: (key, expected, value, options) => call('compareAndSet', keyed(key), () => store.compareAndSet(key, expected, value, options)),
    compareAndSetMany: (writes, checks) =>
      call('compareAndSetMany', { [STATE_ATTRIBUTES.batchSize]: writes.length + (checks?.length ?? 0) }, () => store.compareAndSetMany(writes, checks)),
    claimDue: (index, now, options) => call('claimDue', keyed(index), () => store.claimDue(index, now, options)),
    time: () => call('time', {}, () => store.time()),
    readIndex: (index, options) => call('readIndex', keyed(index), () => store.readIndex(index, options)),
    keys: (prefix) => call('keys', keyed(prefix), () => store.keys(prefix)),
    publish: (channel, message) => call('publish', keyed(channel), () => store.publish(channel, message)),
    subscribe: (channel, onMessage) => call('subscribe', keyed(channel), () => store.subscribe(channel, onMessage)),
    close: () => store.close(),
  };
}
