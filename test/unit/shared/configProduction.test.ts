/**
 * The production start checks (shared/config/production.ts): each rule refuses what it names, its
 * opt-out variable accepts it, nothing is asked outside production, and a process is held only to
 * the rules that concern what it runs.
 */
import { assertSafeForProduction, isLoopback, loadConfig, productionProblems, type Env, type ProcessProfile } from '@trellis/kit/internal/config';
import { ConfigError } from '@trellis/kit/internal/errors';

/** A production gateway with everything a safe deployment sets. */
const SAFE: Env = {
  NODE_ENV: 'production',
  REDIS_URL: 'redis://redis:6379',
  KAFKA_BROKERS: 'kafka:9092',
  CONSUL_HTTP_ADDR: 'http://consul:8500',
  CONSUL_HTTP_TOKEN: 'a-consul-acl-token',
  SUBGRAPH_ALLOW: 'users,catalog',
  ADMIN_HOST: '0.0.0.0',
  ADMIN_TOKEN: 'an-admin-token-of-16+',
};
const GATEWAY: ProcessProfile = { backends: ['discovery', 'state', 'events'], composes: true, admin: true };
const SUBGRAPH: ProcessProfile = { backends: ['discovery', 'state', 'events'] };
const BFF: ProcessProfile = { backends: ['state'] };
const IDENTITY: ProcessProfile = { backends: [], devIdentity: true };

const problemsOf = (env: Env, profile: ProcessProfile = GATEWAY) => productionProblems(loadConfig(env), profile);
const without = (...names: string[]) => Object.fromEntries(Object.entries(SAFE).filter(([name]) => !names.includes(name)));

describe('production start checks', () => {
  it('accept a deployment that sets every backend, the allow-list, a Consul token and an admin token', () => {
    for (const profile of [GATEWAY, SUBGRAPH, BFF]) expect(problemsOf(SAFE, profile)).toEqual([]);
  });

  it('ask nothing outside production', () => {
    for (const nodeEnv of ['development', 'test']) {
      expect(problemsOf({ NODE_ENV: nodeEnv, ADMIN_HOST: '0.0.0.0' }, { ...GATEWAY, devIdentity: true })).toEqual([]);
    }
    expect(problemsOf({ ADMIN_HOST: '0.0.0.0' }, { ...GATEWAY, devIdentity: true })).toEqual([]);
  });

  it.each([
    ['REDIS_URL', 'the state store is embedded (in memory): REDIS_URL is not set'],
    ['KAFKA_BROKERS', 'the event bus is embedded (in memory): KAFKA_BROKERS is not set'],
  ])('refuse the embedded backend when %s is unset, unless TRELLIS_ALLOW_EMBEDDED_BACKENDS=true', (variable, problem) => {
    expect(problemsOf(without(variable))).toEqual([{ problem, optOut: 'TRELLIS_ALLOW_EMBEDDED_BACKENDS' }]);
    expect(problemsOf({ ...without(variable), TRELLIS_ALLOW_EMBEDDED_BACKENDS: 'true' })).toEqual([]);
    expect(problemsOf({ ...without(variable), TRELLIS_ALLOW_EMBEDDED_BACKENDS: 'false' })).toHaveLength(1);
  });

  it('refuse embedded discovery, naming the dev hub when the process would use it', () => {
    const onHub = { ...without('CONSUL_HTTP_ADDR', 'CONSUL_HTTP_TOKEN'), TRELLIS_DEVHUB_URL: 'http://127.0.0.1:4600' };
    expect(problemsOf(onHub)).toEqual([{ problem: 'the discovery is embedded (the dev hub): CONSUL_HTTP_ADDR is not set', optOut: 'TRELLIS_ALLOW_EMBEDDED_BACKENDS' }]);
    expect(problemsOf({ ...onHub, TRELLIS_ALLOW_EMBEDDED_BACKENDS: 'true' })).toEqual([]);
  });

  it('hold a process only to the backends it connects', () => {
    const noBackends = without('REDIS_URL', 'KAFKA_BROKERS', 'CONSUL_HTTP_ADDR');
    expect(problemsOf(noBackends, BFF).map((p) => p.problem)).toEqual(['the state store is embedded (in memory): REDIS_URL is not set']);
    expect(problemsOf(noBackends, SUBGRAPH)).toHaveLength(3);
    expect(problemsOf(noBackends, { backends: ['state', 'events'], admin: true })).toHaveLength(2);
  });

  it('refuse a gateway composing from Consul with no SUBGRAPH_ALLOW, unless TRELLIS_ALLOW_ANY_SUBGRAPH=true; a subgraph composes nothing', () => {
    expect(problemsOf(without('SUBGRAPH_ALLOW'))).toEqual([
      { problem: 'Consul discovery with no allow-list: any service registered in Consul is composed and called; set SUBGRAPH_ALLOW', optOut: 'TRELLIS_ALLOW_ANY_SUBGRAPH' },
    ]);
    expect(problemsOf({ ...without('SUBGRAPH_ALLOW'), TRELLIS_ALLOW_ANY_SUBGRAPH: 'true' })).toEqual([]);
    expect(problemsOf(without('SUBGRAPH_ALLOW'), SUBGRAPH)).toEqual([]);
  });

  it('refuse Consul with no CONSUL_HTTP_TOKEN for every process on it, unless TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN=true', () => {
    const expected = [{ problem: 'Consul discovery with no ACL token: set CONSUL_HTTP_TOKEN', optOut: 'TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN' }];
    expect(problemsOf(without('CONSUL_HTTP_TOKEN'))).toEqual(expected);
    expect(problemsOf(without('CONSUL_HTTP_TOKEN'), SUBGRAPH)).toEqual(expected);
    expect(problemsOf(without('CONSUL_HTTP_TOKEN'), BFF)).toEqual([]);
    expect(problemsOf({ ...without('CONSUL_HTTP_TOKEN'), TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN: 'true' }, SUBGRAPH)).toEqual([]);
  });

  it('refuse an admin listener off loopback with no ADMIN_TOKEN, unless TRELLIS_ALLOW_OPEN_ADMIN=true; loopback needs none', () => {
    expect(problemsOf(without('ADMIN_TOKEN'))).toEqual([
      { problem: 'the admin listener is on ADMIN_HOST=0.0.0.0, off loopback, with no ADMIN_TOKEN', optOut: 'TRELLIS_ALLOW_OPEN_ADMIN' },
    ]);
    expect(problemsOf({ ...without('ADMIN_TOKEN'), TRELLIS_ALLOW_OPEN_ADMIN: 'true' })).toEqual([]);
    for (const host of ['127.0.0.1', '127.3.0.9', '::1', 'localhost']) expect(problemsOf({ ...without('ADMIN_TOKEN'), ADMIN_HOST: host })).toEqual([]);
    expect(problemsOf(without('ADMIN_TOKEN', 'ADMIN_HOST'))).toEqual([]);
    expect(problemsOf(without('ADMIN_TOKEN'), SUBGRAPH)).toEqual([]);
  });

  it('refuse the development identity provider, unless TRELLIS_ALLOW_DEV_IDENTITY=true', () => {
    expect(problemsOf({ NODE_ENV: 'production' }, IDENTITY)).toEqual([
      { problem: 'the development identity provider signs tokens for any subject and scopes: set AUTH_ISSUER to your issuer', optOut: 'TRELLIS_ALLOW_DEV_IDENTITY' },
    ]);
    expect(problemsOf({ NODE_ENV: 'production', TRELLIS_ALLOW_DEV_IDENTITY: 'true' }, IDENTITY)).toEqual([]);
  });

  it('refuse an opt-out that is neither true nor false, naming it', () => {
    expect(() => loadConfig({ ...SAFE, TRELLIS_ALLOW_OPEN_ADMIN: 'yes' })).toThrow(/TRELLIS_ALLOW_OPEN_ADMIN="yes"/);
  });

  it('throw one ConfigError naming every problem and its opt-out', () => {
    const config = loadConfig({ NODE_ENV: 'production', CONSUL_HTTP_ADDR: 'http://consul:8500', ADMIN_HOST: '10.0.0.7' });
    let thrown: unknown;
    try {
      assertSafeForProduction(config, { ...GATEWAY, devIdentity: true });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe(
      [
        'NODE_ENV=production refuses to start unsafe:',
        '  - the state store is embedded (in memory): REDIS_URL is not set (or TRELLIS_ALLOW_EMBEDDED_BACKENDS=true to accept it)',
        '  - the event bus is embedded (in memory): KAFKA_BROKERS is not set (or TRELLIS_ALLOW_EMBEDDED_BACKENDS=true to accept it)',
        '  - Consul discovery with no allow-list: any service registered in Consul is composed and called; set SUBGRAPH_ALLOW (or TRELLIS_ALLOW_ANY_SUBGRAPH=true to accept it)',
        '  - Consul discovery with no ACL token: set CONSUL_HTTP_TOKEN (or TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN=true to accept it)',
        '  - the admin listener is on ADMIN_HOST=10.0.0.7, off loopback, with no ADMIN_TOKEN (or TRELLIS_ALLOW_OPEN_ADMIN=true to accept it)',
        '  - the development identity provider signs tokens for any subject and scopes: set AUTH_ISSUER to your issuer (or TRELLIS_ALLOW_DEV_IDENTITY=true to accept it)',
      ].join('\n'),
    );
    expect(() => assertSafeForProduction(loadConfig(SAFE), GATEWAY)).not.toThrow();
  });

  it('treat only loopback addresses as loopback', () => {
    expect(['127.0.0.1', '127.255.0.1', '::1', '::ffff:127.0.0.1', 'localhost'].filter(isLoopback)).toHaveLength(5);
    expect(['0.0.0.0', '::', '10.0.0.7', '128.0.0.1', 'gateway', '127.example.com', '::2'].filter(isLoopback)).toEqual([]);
  });
});
