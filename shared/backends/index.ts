/**
 * Chooses, once at start-up, which implementation serves each port: the real backend when its
 * variable is set (CONSUL_HTTP_ADDR, REDIS_URL, KAFKA_BROKERS), else the launcher's dev hub
 * (TRELLIS_DEVHUB_URL), else an in-process one (single-process use and tests). The cache port
 * comes with the state port: a Redis of its own on CACHE_REDIS_URL, else the state store itself.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config';
import { ConfigError } from '../errors';
import type { Logger } from '../logging';
import type { Registry } from '../metrics';
import { ConsulDiscovery, InMemoryDiscovery, type Discovery } from '../discovery';
import { InMemoryStateStore, RedisStateStore, tracedStateStore, type StateStore } from '../state';
import { createKafkaEventBus, InMemoryEventBus, tracedEventBus, type EventBus } from '../events';
import { DevHubClient } from '../devhub';
import { kafkaEventBusOptions } from './kafka';
import { refusedIfEvicting } from './evictionPolicy';
import { cachePort } from './cache';
import { memoryRateLimiter, stateStoreRateLimiter, type RateLimiter, type RateLimiterFactory } from '../ratelimit';

export type Port = 'discovery' | 'state' | 'events';
export type BackendKind = 'real' | 'devhub' | 'memory';

export interface Backends {
  discovery: Discovery;
  state: StateStore;
  events: EventBus;
  /**
   * Caches (APQ, BFF responses): what may be evicted and rebuilt. A Redis of its own when
   * CACHE_REDIS_URL is set, else the state store itself. Never saga records, dedupe keys or sessions.
   */
  cache: StateStore;
  /** Rate limiters counting where the cache port keeps its data, so every instance shares a count. */
  rateLimiter: RateLimiterFactory;
  /** Which implementation each port uses, for logs and `/admin`; `cache` follows `state` unless CACHE_REDIS_URL is set. */
  kinds: Record<Port | 'cache', BackendKind>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Ports this process uses; the others are never connected. Defaults to all. */
  uses?: Port[];
  /** Where the adapters count what they do (Kafka produce requests); uncounted when absent. */
  registry?: Registry;
}

export async function connectBackends(config: Config, logger: Logger, options: ConnectOptions = {}): Promise<Backends> {
  const uses = new Set<Port>(options.uses ?? ['discovery', 'state', 'events']);
  const closers: Array<() => Promise<void>> = [];
  const ports: Array<{ close(): Promise<void> }> = [];
  const kinds = {} as Record<Port | 'cache', BackendKind>;
  const { backends } = config;

  let hub: DevHubClient | undefined;
  const devHub = async () => {
    if (!hub) {
      hub = await DevHubClient.connect(backends.devHubUrl as string);
      const connected = hub;
      closers.push(() => connected.close());
    }
    return hub;
  };
  const unused = <T extends object>(port: Port): T =>
    new Proxy({} as T, {
      get: (_target, property) => {
        if (property === 'close') return async () => undefined;
        if (property === 'then') return undefined;
        throw new Error(`the ${port} port was not connected in this process (add it to connectBackends' uses)`);
      },
    });

  const pick = async <T extends object>(port: Port, real: (() => Promise<T>) | undefined, memory: () => T): Promise<T> => {
    if (!uses.has(port)) return unused<T>(port);
    if (real) {
      kinds[port] = 'real';
      const adapter = await real();
      ports.push(adapter as unknown as { close(): Promise<void> });
      return adapter;
    }
    if (backends.devHubUrl) {
      kinds[port] = 'devhub';
      return (await devHub()).remote<T>(port);
    }
    kinds[port] = 'memory';
    const adapter = memory();
    ports.push(adapter as unknown as { close(): Promise<void> });
    return adapter;
  };

  const { consulUrl, redisUrl, kafkaBrokers } = backends;
  const discovery = await pick<Discovery>(
    'discovery',
    consulUrl ? async () => new ConsulDiscovery({
          url: consulUrl,
          logger,
          checkInterval: config.consul.checkInterval,
          failuresBeforeCritical: config.consul.failuresBeforeCritical,
          namespace: config.consul.namespace,
          token: config.consul.token,
          caCert: config.consul.caCertPath ? readCaCert(config.consul.caCertPath) : undefined,
        }) : undefined,
    () => new InMemoryDiscovery({ logger }),
  );
  const state = await pick<StateStore>(
    'state',
    config.redis.topology ? async () => refusedIfEvicting(new RedisStateStore({ ...config.redis, logger, registry: options.registry }), config, logger) : undefined,
    () => new InMemoryStateStore(),
  );
  const cache = uses.has('state') ? cachePort(config, logger, state, kinds.state) : { store: state };
  if (cache.kind) kinds.cache = cache.kind;
  if (cache.store !== state) ports.push(cache.store);
  const events = await pick<EventBus>(
    'events',
    kafkaBrokers.length > 0
      ? async () => createKafkaEventBus({ ...kafkaEventBusOptions(config, logger), registry: options.registry })
      : undefined,
    () => new InMemoryEventBus({ logger }),
  );
  logger.info({ backends: kinds }, 'backends connected');
  // Spans around every message and state call only when tracing is on: off, the wrappers would cost each call for nothing.
  const tracedEvents = uses.has('events') && config.telemetry ? tracedEventBus(events, kinds.events === 'real' ? 'kafka' : 'trellis') : events;
  const tracedState = uses.has('state') && config.telemetry ? tracedStateStore(state, { system: kinds.state === 'real' ? 'redis' : 'trellis', url: redisUrl }) : state;
  const tracedCache = cache.store === state ? tracedState : config.telemetry ? tracedStateStore(cache.store, { system: 'redis', url: config.cache.redisUrl }) : cache.store;
  const rateLimiter = rateLimiterFor(kinds.cache, cache.store);

  return {
    discovery,
    state: tracedState,
    events: tracedEvents,
    cache: tracedCache,
    rateLimiter,
    kinds,
    async close() {
      // Adapters this process owns; dev hub proxies go away with the hub connection.
      for (const port of ports) await port.close();
      for (const close of closers) await close();
    },
  };
}

/** The limiter of the cache port's kind: RateLimiterRedis on Redis, the shared store's atomic increment on the dev hub, else memory. */
function rateLimiterFor(kind: BackendKind | undefined, state: StateStore): RateLimiterFactory {
  if (kind === 'real') return (policy) => (state as RedisStateStore).rateLimiter(policy);
  if (kind === 'devhub') return (policy) => stateStoreRateLimiter(state, policy, `ratelimit:${policy.name}`);
  if (kind === 'memory') {
    // One limiter per policy, so that every limiter of this process shares a count, as they do on Redis or the hub.
    const limiters = new Map<string, RateLimiter>();
    return (policy) => {
      const id = `${policy.name}/${policy.limit}/${policy.windowSec}`;
      let limiter = limiters.get(id);
      if (!limiter) limiters.set(id, (limiter = memoryRateLimiter(policy)));
      return limiter;
    };
  }
  return () => {
    throw new Error('the state port was not connected in this process, so it has no rate limiter (add it to connectBackends\' uses)');
  };
}

function readCaCert(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`CONSUL_CACERT=${JSON.stringify(path)}: cannot read the CA certificate (${(error as Error).message})`);
  }
}
