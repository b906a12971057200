/** Config of the gateway's rate limit (GATEWAY_RATE_LIMIT*) and header rules (HEADER_RULES): defaults, values, and refusals that name the variable. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_HEADER_RULES, formatConfig, loadConfig, loadProcessConfig } from '@trellis/kit/internal/config';
import { ConfigError } from '@trellis/kit/internal/errors';

describe('gateway rate limit config', () => {
  it('is off by default', () => {
    expect(loadConfig({}).gateway.rateLimit).toBeUndefined();
    expect(loadConfig({ GATEWAY_RATE_LIMIT: '0' }).gateway.rateLimit).toBeUndefined();
  });

  it('takes a limit per client and a window that defaults to 60 s', () => {
    expect(loadConfig({ GATEWAY_RATE_LIMIT: '1' }).gateway.rateLimit).toEqual({ limit: 1, windowSec: 60 });
    expect(loadConfig({ GATEWAY_RATE_LIMIT: '100', GATEWAY_RATE_LIMIT_WINDOW_S: '1' }).gateway.rateLimit).toEqual({ limit: 100, windowSec: 1 });
  });

  it.each([
    ['GATEWAY_RATE_LIMIT', '-1'],
    ['GATEWAY_RATE_LIMIT', 'lots'],
    ['GATEWAY_RATE_LIMIT', '1.5'],
    ['GATEWAY_RATE_LIMIT_WINDOW_S', '0'],
  ])('refuses %s=%s naming the variable', (variable, value) => {
    expect(() => loadConfig({ GATEWAY_RATE_LIMIT: '10', [variable]: value })).toThrow(new RegExp(`${variable}="${value.replace('.', '\\.')}"`));
  });
});

describe('subscription caps config', () => {
  it('caps 100 subscriptions per connection and 500 per caller by default; 0 turns a cap off', () => {
    expect(loadConfig({}).gateway.subscriptions).toEqual({ maxPerConnection: 100, maxPerUser: 500 });
    expect(loadConfig({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '0', MAX_SUBSCRIPTIONS_PER_USER: '7' }).gateway.subscriptions).toEqual({ maxPerConnection: 0, maxPerUser: 7 });
  });

  it.each([
    ['MAX_SUBSCRIPTIONS_PER_CONNECTION', '-1'],
    ['MAX_SUBSCRIPTIONS_PER_CONNECTION', 'many'],
    ['MAX_SUBSCRIPTIONS_PER_USER', '2.5'],
  ])('refuses %s=%s naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`${variable}="${value.replace('.', '\\.')}"`));
  });
});

describe('HEADER_RULES config', () => {
  it("defaults to today's four headers for every subgraph", () => {
    expect(loadConfig({}).gateway.headerRules).toEqual({ all: DEFAULT_HEADER_RULES, subgraphs: {} });
    expect(DEFAULT_HEADER_RULES.request).toEqual([
      { propagate: { named: 'traceparent' } },
      { propagate: { named: 'tracestate' } },
      { propagate: { named: 'authorization' } },
      { propagate: { named: 'idempotency-key' } },
    ]);
  });

  it('keeps the default for all subgraphs when only per-subgraph rules are given, and lower-cases header names', () => {
    const rules = loadConfig({ HEADER_RULES: JSON.stringify({ subgraphs: { catalog: { request: [{ insert: { name: 'X-Gateway', value: 'Trellis' } }] } } }) }).gateway.headerRules;
    expect(rules).toEqual({ all: DEFAULT_HEADER_RULES, subgraphs: { catalog: { request: [{ insert: { name: 'x-gateway', value: 'Trellis' } }] } } });
  });

  it.each([
    ['not JSON', '{all', /HEADER_RULES=.*must be JSON like/],
    ['an unknown rule', JSON.stringify({ all: { request: [{ copy: { named: 'a' } }] } }), /HEADER_RULES=.*all\.request\.0/],
    ['two actions in one rule', JSON.stringify({ all: { request: [{ propagate: { named: 'a' }, remove: { named: 'a' } }] } }), /all\.request\.0: each rule is exactly one of propagate, remove or insert/],
    ['an empty rule', JSON.stringify({ all: { request: [{}] } }), /each rule is exactly one of propagate, remove or insert/],
    ['an unknown key', JSON.stringify({ everything: {} }), /HEADER_RULES=.*Unrecognized key/],
    ['a bad header name', JSON.stringify({ all: { request: [{ propagate: { named: 'a b' } }] } }), /HEADER_RULES=.*must be an HTTP header name/],
    ['a header the gateway sets', JSON.stringify({ all: { request: [{ insert: { name: 'Host', value: 'evil' } }] } }), /HEADER_RULES=.*host is set by the gateway itself/],
    ['renaming onto the correlation id', JSON.stringify({ all: { request: [{ propagate: { named: 'a', rename: 'x-correlation-id' } }] } }), /x-correlation-id is set by the gateway itself/],
    ['a bad subgraph name', JSON.stringify({ subgraphs: { 'a b': { request: [] } } }), /HEADER_RULES=.*must be a subgraph name/],
  ])('refuses %s, naming HEADER_RULES', (_what, value, message) => {
    expect(() => loadConfig({ HEADER_RULES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ HEADER_RULES: value })).toThrow(message);
  });

  it('refuses rules for a subgraph SUBGRAPH_ALLOW does not list', () => {
    const env = { SUBGRAPH_ALLOW: 'users,catalog', HEADER_RULES: JSON.stringify({ subgraphs: { catalog: { request: [] }, rogue: { request: [] } } }) };
    expect(() => loadConfig(env)).toThrow('HEADER_RULES has rules for rogue, which SUBGRAPH_ALLOW does not list');
    expect(loadConfig({ ...env, SUBGRAPH_ALLOW: 'users,catalog,rogue' }).gateway.headerRules.subgraphs).toHaveProperty('rogue');
  });

  it('masks the value of an inserted credential header in --print-config, and only that', () => {
    const rules = {
      subgraphs: {
        legacy: {
          request: [
            { insert: { name: 'Authorization', value: 'Bearer service-secret' } },
            { insert: { name: 'x-api-key', value: 'k-123' } },
            { insert: { name: 'x-gateway', value: 'trellis' } },
          ],
        },
      },
    };
    const printed = formatConfig(loadConfig({ HEADER_RULES: JSON.stringify(rules) }));
    expect(printed).not.toContain('service-secret');
    expect(printed).not.toContain('k-123');
    const legacy = (JSON.parse(printed) as { gateway: { headerRules: { subgraphs: { legacy: { request: unknown[] } } } } }).gateway.headerRules.subgraphs.legacy.request;
    expect(legacy).toEqual([
      { insert: { name: 'authorization', value: '***' } },
      { insert: { name: 'x-api-key', value: '***' } },
      { insert: { name: 'x-gateway', value: 'trellis' } },
    ]);
  });

  it('reads the rules as an object from trellis.config.yaml', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trellis-config-'));
    writeFileSync(
      path.join(dir, 'trellis.config.yaml'),
      ['HEADER_RULES:', '  subgraphs:', '    catalog:', '      request:', '        - remove: { named: authorization }', '        - propagate: { named: x-tenant, rename: x-org, default: none }'].join('\n'),
    );
    expect(loadProcessConfig({}, dir).gateway.headerRules.subgraphs.catalog.request).toEqual([{ remove: { named: 'authorization' } }, { propagate: { named: 'x-tenant', rename: 'x-org', default: 'none' } }]);
  });
});
