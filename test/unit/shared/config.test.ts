import { assertSupportedNode, loadConfig } from '@trellis/kit/internal/config';
import { ConfigError } from '@trellis/kit/internal/errors';

describe('loadConfig', () => {
  it('runs the embedded platform with no variables set', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.backends).toEqual({ consulUrl: undefined, redisUrl: undefined, kafkaBrokers: [], devHubUrl: undefined });
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.gateway.url).toBe('http://127.0.0.1:4000/graphql');
  });

  it('reads the real backends from their variables', () => {
    const config = loadConfig({
      CONSUL_HTTP_ADDR: 'http://127.0.0.1:8500',
      REDIS_URL: 'redis://127.0.0.1:6379',
      KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
    });
    expect(config.backends.consulUrl).toBe('http://127.0.0.1:8500');
    expect(config.backends.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.backends.kafkaBrokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).backends.redisUrl).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['NODE_ENV', 'staging'],
    ['REDIS_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`${variable}="${value}"`));
  });

  it('reads the limits, persisted queries and CORS settings, with defaults', () => {
    const defaults = loadConfig({});
    expect(defaults.limits).toEqual({ maxDepth: 12, maxIntrospectionDepth: 2, maxAliases: 30, maxRootFields: 20, maxDirectives: 10, maxTokens: 2000, maxCost: 5000, defaultListSize: 10, maxBatch: 10, maxBodyBytes: 1048576 });
    expect(defaults.persistedQueries).toEqual({ ttlSeconds: 86400, trustedDocumentsPath: undefined });
    expect(defaults.cors).toEqual({ allowedOrigins: [], allowLocalhost: true });
    expect(loadConfig({ NODE_ENV: 'production' }).cors).toEqual({ allowedOrigins: [], allowLocalhost: false });
    const set = loadConfig({ MAX_QUERY_DEPTH: '5', MAX_BODY_BYTES: '2048', CORS_ORIGINS: 'https://a.example, https://b.example', TRUSTED_DOCUMENTS: 'pq.json' });
    expect(set.limits).toMatchObject({ maxDepth: 5, maxBodyBytes: 2048 });
    expect(set.cors).toEqual({ allowedOrigins: ['https://a.example', 'https://b.example'], allowLocalhost: false });
    expect(set.persistedQueries.trustedDocumentsPath).toBe('pq.json');
    expect(() => loadConfig({ MAX_COST: 'lots' })).toThrow(/MAX_COST="lots"/);
  });

  it("reads a subgraph's own limits: tokens and representations follow the gateway's unless set", () => {
    expect(loadConfig({}).subgraph.limits).toEqual({ maxTokens: 10000, maxRepresentations: 5000, maxBodyBytes: 2 * 1024 * 1024 });
    expect(loadConfig({ MAX_TOKENS: '300', MAX_COST: '800' }).subgraph.limits).toMatchObject({ maxTokens: 1500, maxRepresentations: 800 });
    expect(loadConfig({ MAX_TOKENS: '300', SUBGRAPH_MAX_TOKENS: '400', SUBGRAPH_MAX_REPRESENTATIONS: '7', SUBGRAPH_MAX_BODY_BYTES: '4096' }).subgraph.limits).toEqual({
      maxTokens: 400,
      maxRepresentations: 7,
      maxBodyBytes: 4096,
    });
    for (const variable of ['SUBGRAPH_MAX_TOKENS', 'SUBGRAPH_MAX_REPRESENTATIONS', 'SUBGRAPH_MAX_BODY_BYTES']) {
      expect(() => loadConfig({ [variable]: '0' })).toThrow(new RegExp(`${variable}="0"`));
    }
  });
});

describe('assertSupportedNode', () => {
  it('accepts Node 24 and newer', () => {
    expect(() => assertSupportedNode('24.0.0')).not.toThrow();
    expect(() => assertSupportedNode('26.1.0')).not.toThrow();
  });

  it('refuses an older Node and says how to get Node 24', () => {
    expect(() => assertSupportedNode('22.22.0')).toThrow(/needs Node 24 or newer, this is 22.22.0: run it through npm scripts or scripts\/runtime\/node24/);
    expect(() => assertSupportedNode('20.20.2')).toThrow(/needs Node 24/);
  });
});
