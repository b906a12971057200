import { loadConfig } from '../../../shared/config';
import { ConfigError } from '../../../shared/errors';

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
});
