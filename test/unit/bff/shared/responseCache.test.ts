/**
 * The BFF response cache on the memory StateStore with a clock the test moves: what is kept, for
 * whom, for how long, and that a store failure is never the caller's error.
 */
import { Registry } from 'prom-client';
import { createResponseCache, type Caller } from '../../../../bff/shared';
import { InMemoryStateStore } from '@trellis/kit/testing';
import type { StateStore } from '@trellis/kit';
import { recordingLogger } from '../../../support/loopback';

const caller = (id: string, cacheKey = `user:${id}:s`): Caller => ({ id, scopes: [], token: `t-${id}`, cacheKey });

function world(options: { ttlMs?: number; state?: StateStore } = {}) {
  let now = 1_000_000;
  const memory = new InMemoryStateStore({ now: () => now });
  const state = options.state ?? memory;
  const registry = new Registry();
  const { logger, lines } = recordingLogger();
  const cache = createResponseCache({ app: 'web', state, ttlMs: options.ttlMs ?? 2000, logger, registry });
  let computed = 0;
  const compute = (value: unknown, cacheable = true) => async () => {
    computed += 1;
    return { value, cacheable };
  };
  const lookups = async () => Object.fromEntries((await registry.getSingleMetric('trellis_bff_cache_lookups_total')!.get()).values.map((v) => [`${v.labels.app}:${v.labels.outcome}`, v.value]));
  return { cache, memory, registry, lines, compute, computed: () => computed, advance: (ms: number) => (now += ms), lookups };
}

describe('BFF response cache', () => {
  it('serves a public read from the store until its TTL ends, then computes again', async () => {
    const w = world({ ttlMs: 2000 });
    expect(await w.cache.read({ resource: 'products?first=2', personal: false }, w.compute({ n: 1 }))).toEqual({ value: { n: 1 }, hit: false });
    expect(await w.memory.get('bff:web:cache:public:products?first=2')).toBe('{"n":1}');
    w.advance(1999);
    expect(await w.cache.read({ resource: 'products?first=2', personal: false }, w.compute({ n: 2 }))).toEqual({ value: { n: 1 }, hit: true });
    w.advance(1);
    expect(await w.cache.read({ resource: 'products?first=2', personal: false }, w.compute({ n: 3 }))).toEqual({ value: { n: 3 }, hit: false });
    expect(w.computed()).toBe(2);
    expect(await w.lookups()).toEqual({ 'web:hit': 1, 'web:miss': 2 });
  });

  it('never stores an answer marked not cacheable (an error or partial answer): the next caller computes again', async () => {
    const w = world();
    const entry = { resource: 'home', personal: false };
    expect(await w.cache.read(entry, w.compute({ error: 'SUBGRAPH_UNAVAILABLE' }, false))).toEqual({ value: { error: 'SUBGRAPH_UNAVAILABLE' }, hit: false });
    expect(await w.memory.keys('bff:')).toEqual([]);
    expect(await w.cache.read(entry, w.compute({ ok: true }))).toEqual({ value: { ok: true }, hit: false });
    expect(w.computed()).toBe(2);
  });

  it('never stores a thrown error: the caller gets it, the store stays empty', async () => {
    const w = world();
    await expect(w.cache.read({ resource: 'home', personal: false }, async () => Promise.reject(new Error('gateway down')))).rejects.toThrow('gateway down');
    expect(await w.memory.keys('bff:')).toEqual([]);
  });

  it("keys a personal answer by the caller's cacheKey: never served to another caller", async () => {
    const w = world();
    const ada = caller('ada');
    await w.cache.read({ resource: 'orders', personal: true, caller: ada }, w.compute(['ada-order']));
    expect(await w.memory.keys('bff:web:cache:')).toEqual(['bff:web:cache:user:ada:s:orders']);
    expect(await w.cache.read({ resource: 'orders', personal: true, caller: caller('bob') }, w.compute(['bob-order']))).toEqual({ value: ['bob-order'], hit: false });
    expect(await w.cache.read({ resource: 'orders', personal: true, caller: caller('ada2', ada.cacheKey) }, w.compute(['x']))).toEqual({ value: ['ada-order'], hit: true });
    // The public entry of the same resource is another entry.
    expect(await w.cache.read({ resource: 'orders', personal: false }, w.compute(['public']))).toEqual({ value: ['public'], hit: false });
  });

  it('does not cache a personal read without a caller', async () => {
    const w = world();
    await w.cache.read({ resource: 'orders', personal: true }, w.compute(['anon']));
    expect(await w.cache.read({ resource: 'orders', personal: true }, w.compute(['anon2']))).toEqual({ value: ['anon2'], hit: false });
    expect(await w.memory.keys('bff:')).toEqual([]);
  });

  it('is off with a TTL of 0: every read computes, nothing is stored', async () => {
    const w = world({ ttlMs: 0 });
    await w.cache.read({ resource: 'home', personal: false }, w.compute(1));
    expect(await w.cache.read({ resource: 'home', personal: false }, w.compute(2))).toEqual({ value: 2, hit: false });
    expect(await w.memory.keys('bff:')).toEqual([]);
    expect(await w.lookups()).toEqual({ 'web:miss': 2 });
  });

  it('reads through a store that fails, and answers when it cannot write, logging each once', async () => {
    const broken = new InMemoryStateStore();
    broken.get = async () => Promise.reject(new Error('redis gone'));
    broken.set = async () => Promise.reject(new Error('redis full'));
    const w = world({ state: broken });
    expect(await w.cache.read({ resource: 'home', personal: false }, w.compute('fresh'))).toEqual({ value: 'fresh', hit: false });
    expect(w.lines.map((line) => [line.level, line.msg, line.key, (line.err as { message: string }).message])).toEqual([
      ['warn', 'response cache unavailable; reading through', 'bff:web:cache:public:home', 'redis gone'],
      ['warn', 'response cache write failed', 'bff:web:cache:public:home', 'redis full'],
    ]);
  });

  it('shares one lookups counter between caches of one registry, and works without a registry', async () => {
    const w = world();
    const second = createResponseCache({ app: 'mobile', state: w.memory, ttlMs: 1000, logger: recordingLogger().logger, registry: w.registry });
    await second.read({ resource: 'x', personal: false }, w.compute(1));
    expect(await w.lookups()).toEqual({ 'mobile:miss': 1 });
    const bare = createResponseCache({ app: 'web', state: w.memory, ttlMs: 1000, logger: recordingLogger().logger });
    expect(await bare.read({ resource: 'x', personal: false }, w.compute(2))).toEqual({ value: 2, hit: false });
    expect(await w.lookups()).toEqual({ 'mobile:miss': 1 });
  });
});
