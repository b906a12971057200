import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatConfig, loadConfig, loadProcessConfig } from '@trellis/kit/internal/config';
import { ConfigError } from '@trellis/kit/internal/errors';

const folderWith = (name: string, text: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trellis-config-'));
  writeFileSync(path.join(dir, name), text);
  return dir;
};

describe('trellis.config file', () => {
  it('reads the variables from trellis.config.yaml in the working directory, lists and objects included', () => {
    const dir = folderWith(
      'trellis.config.yaml',
      ['REDIS_URL: redis://redis:6379', 'MAX_COST: 3000', 'KAFKA_BROKERS: [k1:9092, k2:9092]', 'BREAKER_OVERRIDES:', '  catalog: { timeoutMs: 500 }'].join('\n'),
    );
    const config = loadProcessConfig({}, dir);
    expect(config.backends.redisUrl).toBe('redis://redis:6379');
    expect(config.limits.maxCost).toBe(3000);
    expect(config.backends.kafkaBrokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.resilience.breakerOverrides).toEqual({ catalog: { timeoutMs: 500 } });
  });

  it('lets the environment win over the file, and an empty variable fall back to it', () => {
    const dir = folderWith('trellis.config.json', JSON.stringify({ MAX_COST: 3000, MAX_ALIASES: 7 }));
    const config = loadProcessConfig({ MAX_COST: '4000', MAX_ALIASES: '' }, dir);
    expect(config.limits.maxCost).toBe(4000);
    expect(config.limits.maxAliases).toBe(7);
  });

  it('reads the file TRELLIS_CONFIG names, relative to the working directory, and refuses one that is missing', () => {
    const dir = folderWith('prod.yml', 'LOG_LEVEL: warn\n');
    expect(loadProcessConfig({ TRELLIS_CONFIG: 'prod.yml' }, dir).logLevel).toBe('warn');
    expect(() => loadProcessConfig({ TRELLIS_CONFIG: 'nope.yml' }, dir)).toThrow(new ConfigError('TRELLIS_CONFIG=nope.yml: no such file'));
  });

  it('refuses an unknown setting and a bad value, naming the file and the variable', () => {
    const typo = folderWith('trellis.config.yaml', 'REDIS_ULR: redis://x\n');
    expect(() => loadProcessConfig({}, typo)).toThrow(/trellis\.config\.yaml: unknown setting REDIS_ULR/);
    const bad = folderWith('trellis.config.yaml', 'MAX_COST: lots\n');
    expect(() => loadProcessConfig({}, bad)).toThrow(/MAX_COST="lots"/);
    const broken = folderWith('trellis.config.yaml', 'MAX_COST: [\n');
    expect(() => loadProcessConfig({}, broken)).toThrow(/cannot read it as YAML or JSON/);
    const list = folderWith('trellis.config.yaml', '- REDIS_URL\n');
    expect(() => loadProcessConfig({}, list)).toThrow(/must be a mapping/);
  });

  it('runs on the defaults when there is no file', () => {
    expect(loadProcessConfig({}, mkdtempSync(path.join(tmpdir(), 'trellis-none-'))).limits.maxCost).toBe(5000);
  });
});

describe('--print-config', () => {
  it('shows the effective config with URL passwords and secret-named fields masked', () => {
    const printed = JSON.parse(formatConfig(loadConfig({ REDIS_URL: 'redis://app:s3cret@redis:6379/0', MAX_COST: '3000' })));
    expect(printed.backends.redisUrl).toBe('redis://app:***@redis:6379/0');
    expect(printed.limits.maxCost).toBe(3000);
    expect(JSON.stringify(printed)).not.toContain('s3cret');
  });
});

describe('server timeouts', () => {
  it('default keep-alive above a load balancer idle timeout (60 s), headers above keep-alive', () => {
    expect(loadConfig({}).http.timeouts).toEqual({ keepAliveMs: 65_000, headersMs: 66_000, requestMs: 300_000 });
  });

  it('refuses headers that do not outlast keep-alive, or exceed the request timeout', () => {
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '70000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS=66000 must be above HTTP_KEEP_ALIVE_TIMEOUT_MS=70000/);
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/at most HTTP_REQUEST_TIMEOUT_MS=1000/);
  });
});
