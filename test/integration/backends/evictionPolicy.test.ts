/**
 * The state store's Redis must not evict: read at start from a real Redis (CONFIG GET
 * maxmemory-policy). Production refuses an evicting one unless TRELLIS_ALLOW_EVICTING_STATE_STORE;
 * elsewhere, and with the opt-out, it is a warning; a Redis that refuses CONFIG is said so, once.
 */
import { connectBackends, type Backends } from '@trellis/kit/internal/backends';
import { loadConfig, type Env } from '@trellis/kit/internal/config';
import { ConfigError } from '@trellis/kit/internal/errors';
import { privateRedis, type PausableServer } from '../../support/privateServers';
import { recordingLogger } from '../../support/recordingLogger';

const PRODUCTION = { NODE_ENV: 'production', TRELLIS_ALLOW_EMBEDDED_BACKENDS: 'true' };
const EVICTION_WARNING = /the state store's Redis evicts keys under memory pressure \(maxmemory-policy allkeys-lru\)/;

describe("the state store's maxmemory-policy, checked at start", () => {
  const servers: PausableServer[] = [];
  const opened: Backends[] = [];
  let lru: PausableServer;
  let noEviction: PausableServer;
  let noConfig: PausableServer;

  beforeAll(async () => {
    lru = await privateRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
    noEviction = await privateRedis();
    noConfig = await privateRedis({ args: ['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', ''] });
    servers.push(lru, noEviction, noConfig);
    await Promise.all(servers.map((server) => server.start()));
  });
  afterEach(async () => {
    for (const backends of opened.splice(0)) await backends.close();
  });
  afterAll(async () => {
    for (const server of servers) await server.kill();
  });

  const connect = async (env: Env) => {
    const { logger, lines } = recordingLogger();
    const backends = await connectBackends(loadConfig(env), logger, { uses: ['state'] });
    opened.push(backends);
    return { backends, lines };
  };

  it('refuses, in production, a state store on allkeys-lru, naming the policy, the fix and the opt-out', async () => {
    const { logger } = recordingLogger();
    const started = connectBackends(loadConfig({ ...PRODUCTION, REDIS_URL: lru.url }), logger, { uses: ['state'] });
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(EVICTION_WARNING);
    await expect(started).rejects.toThrow(/set its maxmemory-policy to noeviction, and put caches on CACHE_REDIS_URL \(or TRELLIS_ALLOW_EVICTING_STATE_STORE=true to accept it\)/);
  });

  it('starts with the opt-out, or outside production, and warns', async () => {
    for (const env of [{ ...PRODUCTION, TRELLIS_ALLOW_EVICTING_STATE_STORE: 'true' }, {}]) {
      const { backends, lines } = await connect({ ...env, REDIS_URL: lru.url });
      expect(backends.kinds.state).toBe('real');
      expect(lines.filter((line) => EVICTION_WARNING.test(line.msg)).map((line) => [line.level, line.maxmemoryPolicy])).toEqual([['warn', 'allkeys-lru']]);
    }
  });

  it('starts in production on noeviction without a word', async () => {
    const { backends, lines } = await connect({ ...PRODUCTION, REDIS_URL: noEviction.url });
    await backends.state.set('k', 'v');
    expect(lines.filter((line) => /maxmemory-policy/.test(line.msg))).toEqual([]);
  });

  it('says once that it cannot read the policy of a Redis with CONFIG disabled, and starts', async () => {
    const { backends, lines } = await connect({ ...PRODUCTION, REDIS_URL: noConfig.url });
    await backends.state.set('k', 'v');
    const said = lines.filter((line) => /maxmemory-policy/.test(line.msg));
    expect(said.map((line) => [line.level, line.msg])).toEqual([
      ['warn', "the state store's maxmemory-policy cannot be read (CONFIG is disabled or not allowed there): make sure it is noeviction, or saga records and dedupe keys can be evicted"],
    ]);
    expect(said[0].reason).toMatch(/unknown command/i);
  });

  it('does not check a cache Redis: caches may be evicted', async () => {
    const { backends, lines } = await connect({ ...PRODUCTION, REDIS_URL: noEviction.url, CACHE_REDIS_URL: lru.url });
    expect(backends.kinds.cache).toBe('real');
    expect(lines.filter((line) => /maxmemory-policy/.test(line.msg))).toEqual([]);
  });
});
