/** Which trellis.config file is read, and how its values become variables. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONFIG_FILE_NAMES, loadProcessConfig } from '@trellis/kit/internal/config';
import { findConfigFile, readConfigFile, withConfigFile } from '@trellis/kit/internal/config/file';

const folder = (files: Record<string, string>): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trellis-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
};
const known = new Set(['REDIS_URL', 'MAX_COST', 'KAFKA_BROKERS', 'BREAKER_OVERRIDES', 'DEDUP_QUERIES', 'SERVICE_NAME']);

describe('findConfigFile', () => {
  it('looks for trellis.config.yaml, then .yml, then .json', () => {
    expect(CONFIG_FILE_NAMES).toEqual(['trellis.config.yaml', 'trellis.config.yml', 'trellis.config.json']);
    const all = folder({ 'trellis.config.json': '{}', 'trellis.config.yml': '', 'trellis.config.yaml': '' });
    expect(findConfigFile({}, all)).toBe(path.join(all, 'trellis.config.yaml'));
    const two = folder({ 'trellis.config.json': '{}', 'trellis.config.yml': '' });
    expect(findConfigFile({}, two)).toBe(path.join(two, 'trellis.config.yml'));
    expect(findConfigFile({}, folder({}))).toBeUndefined();
  });

  it('takes the file TRELLIS_CONFIG names, absolute or relative to the working directory, over the usual names', () => {
    const dir = folder({ 'trellis.config.yaml': '', 'prod.yaml': '' });
    expect(findConfigFile({ TRELLIS_CONFIG: 'prod.yaml' }, dir)).toBe(path.join(dir, 'prod.yaml'));
    expect(findConfigFile({ TRELLIS_CONFIG: path.join(dir, 'prod.yaml') }, '/')).toBe(path.join(dir, 'prod.yaml'));
  });
});

describe('readConfigFile', () => {
  it('turns scalars into text, lists into comma-separated text and objects into JSON, and skips empty values', () => {
    const dir = folder({
      'trellis.config.yaml': [
        'MAX_COST: 3000',
        'DEDUP_QUERIES: false',
        'KAFKA_BROKERS: [k1:9092, k2:9092]',
        'BREAKER_OVERRIDES: { catalog: { timeoutMs: 500 } }',
        'REDIS_URL:',
        'SERVICE_NAME: ~',
      ].join('\n'),
    });
    expect(readConfigFile(path.join(dir, 'trellis.config.yaml'), known)).toEqual({
      MAX_COST: '3000',
      DEDUP_QUERIES: 'false',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      BREAKER_OVERRIDES: '{"catalog":{"timeoutMs":500}}',
    });
  });

  it('reads an empty file as no settings', () => {
    expect(readConfigFile(path.join(folder({ 'trellis.config.yaml': '' }), 'trellis.config.yaml'), known)).toEqual({});
  });

  it.each([
    ['a scalar', '42', 'must be a mapping of variable names to values, e.g. "REDIS_URL: redis://redis:6379"'],
    ['a list', '- REDIS_URL', 'must be a mapping of variable names to values'],
    [
      'an unknown setting',
      'REDIS_ULR: redis://r',
      "unknown setting REDIS_ULR (settings are the environment variables' names, e.g. REDIS_URL)",
    ],
    ['broken YAML', 'MAX_COST: [', 'cannot read it as YAML or JSON: '],
  ])('refuses %s, naming the file', (_case, text, problem) => {
    const file = path.join(folder({ 'trellis.config.yaml': text }), 'trellis.config.yaml');
    expect(() => readConfigFile(file, known)).toThrow(`${file}: ${problem}`);
  });
});

describe('withConfigFile', () => {
  it('returns the environment unchanged when there is no file', () => {
    const env = { MAX_COST: '1' };
    expect(withConfigFile(env, folder({}), known)).toBe(env);
  });

  it('lays the environment over the file, except for variables that are empty or unset', () => {
    const dir = folder({
      'trellis.config.json': JSON.stringify({
        MAX_COST: 3000,
        REDIS_URL: 'redis://file:6379',
        SERVICE_NAME: 'from-file',
      }),
    });
    expect(
      withConfigFile({ MAX_COST: '4000', REDIS_URL: '', SERVICE_NAME: undefined, DEDUP_QUERIES: 'false' }, dir, known),
    ).toEqual({
      MAX_COST: '4000',
      REDIS_URL: 'redis://file:6379',
      SERVICE_NAME: 'from-file',
      DEDUP_QUERIES: 'false',
    });
  });

  it('knows every variable of the configuration, so a file may set any of them', () => {
    const dir = folder({
      'trellis.config.yaml':
        'GATEWAY_RATE_LIMIT_WINDOW_S: 5\nGATEWAY_RATE_LIMIT: 9\nMOBILE_PERSISTED_OPERATIONS: ops.json\n',
    });
    const config = loadProcessConfig({}, dir);
    expect(config.gateway.rateLimit).toEqual({ limit: 9, windowSec: 5 });
    expect(config.bff.persistedOperationsPath).toBe('ops.json');
  });
});
