/** ENTITY_CACHE and its settings: defaults, refusals naming the variable, and production's refusal of a cache with no cache Redis. */
import { loadConfig, productionProblems, type Env } from '@trellis/kit/internal/config';
import { configRefusal as refusal } from '../../../support/configRefusal';
import { gatewayProfile } from '../../../../gateway/processProfile';

const GATEWAY_PROFILE = gatewayProfile(loadConfig({}));
const STATIC_GATEWAY_PROFILE = gatewayProfile(loadConfig({}), 'supergraph.graphql');

describe('ENTITY_CACHE', () => {
  it('is off by default, with an LRU of 10 000 entities, an hour at most, 50 ms for the cache Redis', () => {
    expect(loadConfig({}).entityCache).toEqual({ mode: 'off', localMax: 10_000, maxTtlMs: 3_600_000, redisTimeoutMs: 50, prefix: 'trellis:entity:', responses: true, redisUrl: undefined });
  });

  it('reads every setting, and the cache Redis from CACHE_REDIS_URL (never the state store)', () => {
    const env = { ENTITY_CACHE: 'shadow', ENTITY_CACHE_LOCAL_MAX: '500', ENTITY_CACHE_MAX_TTL_S: '60', ENTITY_CACHE_REDIS_TIMEOUT_MS: '20', ENTITY_CACHE_PREFIX: 'shop:e:', ENTITY_CACHE_RESPONSES: 'off', CACHE_REDIS_URL: 'redis://cache:6380', REDIS_URL: 'redis://state:6379' };
    expect(loadConfig(env).entityCache).toEqual({ mode: 'shadow', localMax: 500, maxTtlMs: 60_000, redisTimeoutMs: 20, prefix: 'shop:e:', responses: false, redisUrl: 'redis://cache:6380' });
    expect(loadConfig({ REDIS_URL: 'redis://state:6379', ENTITY_CACHE: 'on' }).entityCache.redisUrl).toBeUndefined();
  });

  it('refuses a bad value at start, naming the variable', () => {
    expect(refusal({ ENTITY_CACHE: 'yes' })).toContain('ENTITY_CACHE="yes"');
    expect(refusal({ ENTITY_CACHE_LOCAL_MAX: '0' })).toContain('ENTITY_CACHE_LOCAL_MAX="0"');
    expect(refusal({ ENTITY_CACHE_MAX_TTL_S: 'an hour' })).toContain('ENTITY_CACHE_MAX_TTL_S="an hour"');
    expect(refusal({ ENTITY_CACHE_REDIS_TIMEOUT_MS: '-5' })).toContain('ENTITY_CACHE_REDIS_TIMEOUT_MS="-5"');
    expect(refusal({ ENTITY_CACHE_RESPONSES: 'yes' })).toContain('ENTITY_CACHE_RESPONSES="yes"');
  });

  it('in production, refuses a gateway caching entities with no CACHE_REDIS_URL, unless TRELLIS_ALLOW_LOCAL_ENTITY_CACHE=true', () => {
    const safe: Env = {
      NODE_ENV: 'production',
      REDIS_URL: 'redis://redis:6379',
      KAFKA_BROKERS: 'kafka:9093',
      CONSUL_HTTP_ADDR: 'http://consul:8500',
      CONSUL_HTTP_TOKEN: 'a-consul-acl-token',
      SUBGRAPH_ALLOW: 'users',
    };
    expect(productionProblems(loadConfig({ ...safe, ENTITY_CACHE: 'on' }), GATEWAY_PROFILE)).toEqual([
      { problem: 'ENTITY_CACHE=on with no CACHE_REDIS_URL: each gateway would keep its own entity cache; set CACHE_REDIS_URL', optOut: 'TRELLIS_ALLOW_LOCAL_ENTITY_CACHE' },
    ]);
    expect(productionProblems(loadConfig({ ...safe, ENTITY_CACHE: 'shadow' }), STATIC_GATEWAY_PROFILE).map((problem) => problem.optOut)).toContain('TRELLIS_ALLOW_LOCAL_ENTITY_CACHE');
    expect(productionProblems(loadConfig({ ...safe, ENTITY_CACHE: 'shadow', TRELLIS_ALLOW_LOCAL_ENTITY_CACHE: 'true' }), GATEWAY_PROFILE)).toEqual([]);
    expect(productionProblems(loadConfig({ ...safe, ENTITY_CACHE: 'on', CACHE_REDIS_URL: 'redis://cache:6380' }), GATEWAY_PROFILE)).toEqual([]);
    expect(productionProblems(loadConfig(safe), GATEWAY_PROFILE)).toEqual([]);
  });
});
