/**
 * What the Consul adapter sends Consul and makes of its answers. The adapter's network side
 * (blocking queries, restore after an agent restart, outages) is tested against a real Consul in
 * test/integration/contracts/discovery.test.ts and test/integration/failure/consul.test.ts.
 */
import { parseWait, registrationBody, toInstance, type HealthEntry } from '@trellis/kit/internal/discovery/consulRecords';
import { recordingLogger } from '../../../support/recordingLogger';

const registration = {
  id: 'catalog-10.0.0.5-4002',
  name: 'catalog',
  url: 'http://10.0.0.5:4002/graphql',
  healthUrl: 'http://10.0.0.5:4002/health/ready',
};

describe('registrationBody', () => {
  it('registers the instance at its host and port, tagged, with a passing readiness check on its health URL', () => {
    expect(registrationBody(registration, { tag: 'trellis-subgraph@ns' })).toEqual({
      ID: 'catalog-10.0.0.5-4002',
      Name: 'catalog',
      Address: '10.0.0.5',
      Port: 4002,
      Tags: ['trellis-subgraph@ns'],
      Meta: { graphql_url: 'http://10.0.0.5:4002/graphql' },
      Check: {
        CheckID: 'catalog-10.0.0.5-4002:ready',
        Name: 'catalog ready',
        HTTP: 'http://10.0.0.5:4002/health/ready',
        Interval: '1s',
        Timeout: '1s',
        FailuresBeforeCritical: 3,
        DeregisterCriticalServiceAfter: '30s',
        Status: 'passing',
      },
    });
  });

  it('uses the configured check interval, failures before critical and critical deregistration delay', () => {
    const { Check } = registrationBody(registration, {
      tag: 't',
      checkInterval: '5s',
      failuresBeforeCritical: 1,
      deregisterCriticalAfter: '2m',
    }) as { Check: Record<string, string | number> };
    expect(Check.Interval).toBe('5s');
    expect(Check.FailuresBeforeCritical).toBe(1);
    expect(Check.DeregisterCriticalServiceAfter).toBe('2m');
  });

  it.each([
    ['http://catalog.internal/graphql', 80],
    ['https://catalog.internal/graphql', 443],
    ['https://catalog.internal:8443/graphql', 8443],
  ])('takes the port of %s as %d', (url, port) => {
    expect(registrationBody({ ...registration, url }, { tag: 't' })).toMatchObject({
      Address: 'catalog.internal',
      Port: port,
    });
  });

  it('keeps meta under keys Consul accepts: other characters become _, and a key too long is left out', () => {
    const meta = {
      'breaker.timeoutMs': '500',
      schema_revision: 'abc',
      ['k'.repeat(129)]: 'dropped',
      ['k'.repeat(128)]: 'kept',
    };
    expect(registrationBody({ ...registration, meta }, { tag: 't' }).Meta).toEqual({
      graphql_url: 'http://10.0.0.5:4002/graphql',
      breaker_timeoutMs: '500',
      schema_revision: 'abc',
      ['k'.repeat(128)]: 'kept',
    });
  });
});

const entry = (meta: Record<string, string> | null, statuses: string[] = ['passing']): HealthEntry => ({
  Service: { ID: 'users-1', Service: 'users', Address: '10.0.0.7', Port: 4001, Tags: ['trellis-subgraph'], Meta: meta },
  Checks: statuses.map((Status) => ({ Status })),
});

describe('toInstance', () => {
  it('builds the GraphQL URL from the address Consul checks when meta names none, warning of nothing', () => {
    const { logger, lines } = recordingLogger();
    expect(toInstance(entry(null), logger)).toEqual({
      id: 'users-1',
      name: 'users',
      url: 'http://10.0.0.7:4001/graphql',
      meta: {},
      healthy: true,
    });
    expect(lines).toEqual([]);
    expect(toInstance(entry({ graphqlPath: '/api' })).url).toBe('http://10.0.0.7:4001/api');
  });

  it.each(['http://10.0.0.7:4001/custom', 'https://10.0.0.7:4001/graphql'])(
    'takes the registered graphql_url %s when it points at that address and port',
    (url) => {
      expect(toInstance(entry({ graphql_url: url })).url).toBe(url);
    },
  );

  it('takes an IPv6 graphql_url that points at the bracket-less address Consul holds', () => {
    const ipv6 = entry({ graphql_url: 'http://[::1]:4001/graphql' });
    ipv6.Service.Address = '::1';
    expect(toInstance(ipv6).url).toBe('http://[::1]:4001/graphql');
  });

  it('takes the default port of the graphql_url scheme', () => {
    const onDefault = entry({ graphql_url: 'https://10.0.0.7/graphql' });
    onDefault.Service.Port = 443;
    expect(toInstance(onDefault).url).toBe('https://10.0.0.7/graphql');
    const onHttp = entry({ graphql_url: 'http://10.0.0.7/graphql' });
    onHttp.Service.Port = 80;
    expect(toInstance(onHttp).url).toBe('http://10.0.0.7/graphql');
  });

  it.each([
    ['another host', 'http://evil.example:4001/graphql'],
    ['another port', 'http://10.0.0.7:9999/graphql'],
    ['the default port of another scheme', 'https://10.0.0.7/graphql'],
    ['a scheme that is not http', 'ftp://10.0.0.7:4001/graphql'],
    ['text that is not a URL', 'not a url'],
  ])('ignores a graphql_url on %s, uses the checked address and says so in the log', (_case, graphqlUrl) => {
    const { logger, lines } = recordingLogger();
    expect(toInstance(entry({ graphql_url: graphqlUrl }), logger).url).toBe('http://10.0.0.7:4001/graphql');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'graphql_url does not match the service address; using the address',
        instance: 'users-1',
        graphqlUrl,
        address: '10.0.0.7:4001',
      }),
    ]);
  });

  it('counts an instance healthy only while every one of its checks passes', () => {
    expect(toInstance(entry(null, ['passing', 'passing'])).healthy).toBe(true);
    expect(toInstance(entry(null, ['passing', 'warning'])).healthy).toBe(false);
    expect(toInstance(entry(null, ['critical'])).healthy).toBe(false);
    expect(toInstance({ ...entry(null), Checks: null as unknown as [] }).healthy).toBe(true);
  });

  it('keeps the registered meta, a copy the caller may change', () => {
    const raw = entry({ schema_revision: 'r1' });
    const instance = toInstance(raw);
    instance.meta.schema_revision = 'changed';
    expect(raw.Service.Meta).toEqual({ schema_revision: 'r1' });
  });
});

describe('parseWait', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['2m', 120_000],
    ['5h', 30_000],
    ['s', 30_000],
    ['x10s', 30_000],
    ['10sx', 30_000],
  ])('reads %s as %d ms', (wait, ms) => {
    expect(parseWait(wait)).toBe(ms);
  });
});
