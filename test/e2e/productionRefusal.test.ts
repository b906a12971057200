/**
 * NODE_ENV=production refuses to start unsafe, through the entries an operator runs: the image's
 * one entry (`scripts/service.ts <service>`) for every service, and the launcher (`npm start`). Each
 * exits non-zero before listening or connecting anything, with one message that names every
 * problem and its opt-out variable; only an evicting state store Redis, and a subgraph asking its
 * peers with no allow-list, are found once connected.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { eventually } from '../support/graphql';
import { freePort } from '../support/ports';
import { privateRedis } from '../support/privateServers';
import { kafkaVariables, realBackends, uniquePrefix } from '../support/backends';

const ROOT = path.resolve(__dirname, '..', '..');
/** Backends that would be real if the process got as far as connecting them (it must not). */
const BACKENDS = { REDIS_URL: 'redis://127.0.0.1:1', KAFKA_BROKERS: '127.0.0.1:1', CONSUL_HTTP_ADDR: 'http://127.0.0.1:1' };
/** A process that is not refused keeps running; this bounds the wait on a slow, shared machine. */
const EXIT_BOUND_MS = 60_000;

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
}

function run(script: string, args: string[], env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      // PORT=0: a process that wrongly starts takes a free port instead of colliding with another test.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', PORT: '0', TRELLIS_PORT_BASE: '47000', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const bound = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} was not refused: still running after ${EXIT_BOUND_MS} ms\n${stdout}${stderr}`));
    }, EXIT_BOUND_MS);
    child.once('exit', (code) => {
      clearTimeout(bound);
      resolve({ code, stdout, stderr });
    });
  });
}

const service = (name: string, env: Record<string, string> = {}) => run('scripts/service.ts', [name], env);

describe('NODE_ENV=production refuses to start unsafe', () => {
  it('every service on the embedded backends exits 2 naming the variables it lacks and TRELLIS_ALLOW_EMBEDDED_BACKENDS', async () => {
    const names = ['users', 'catalog', 'orders', 'payments', 'sagas', 'gateway', 'web-bff', 'mobile-bff'];
    const exits = await Promise.all(names.map((name) => service(name)));
    names.forEach((name, index) => {
      const { code, stderr, stdout } = exits[index];
      expect({ name, code, stdout }).toEqual({ name, code: 2, stdout: '' });
      expect(stderr).toContain('NODE_ENV=production refuses to start unsafe:');
      expect(stderr).toContain('the state store is embedded (in memory): REDIS_URL is not set (or TRELLIS_ALLOW_EMBEDDED_BACKENDS=true to accept it)');
      // A BFF uses only the state store; every other service also the event bus and discovery.
      const bff = name.endsWith('-bff');
      expect([name, stderr.includes('KAFKA_BROKERS is not set')]).toEqual([name, !bff]);
      expect([name, stderr.includes('CONSUL_HTTP_ADDR is not set')]).toEqual([name, !bff]);
    });
  });

  it('the gateway on Consul exits 2 naming the allow-list, the Consul token and the admin token it lacks', async () => {
    const { code, stderr } = await service('gateway', { ...BACKENDS, ADMIN_HOST: '0.0.0.0' });
    expect(code).toBe(2);
    expect(stderr).toBe(
      [
        'gateway: NODE_ENV=production refuses to start unsafe:',
        '  - Consul discovery with no allow-list: any service registered in Consul is composed and called; set SUBGRAPH_ALLOW (or TRELLIS_ALLOW_ANY_SUBGRAPH=true to accept it)',
        '  - Consul discovery with no ACL token: set CONSUL_HTTP_TOKEN (or TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN=true to accept it)',
        '  - the admin listener is on ADMIN_HOST=0.0.0.0, off loopback, with no ADMIN_TOKEN (or TRELLIS_ALLOW_OPEN_ADMIN=true to accept it)',
        '',
      ].join('\n'),
    );
  });

  it('a service whose state store Redis evicts (allkeys-lru) exits 2 once connected, naming the policy and TRELLIS_ALLOW_EVICTING_STATE_STORE', async () => {
    const lru = await privateRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    await lru.start();
    try {
      const { code, stdout } = await service('web-bff', { REDIS_URL: lru.url });
      expect(code).toBe(2);
      expect(stdout).toContain('the state store\'s Redis evicts keys under memory pressure (maxmemory-policy allkeys-lru)');
      expect(stdout).toContain('(or TRELLIS_ALLOW_EVICTING_STATE_STORE=true to accept it)');
      expect(stdout).not.toContain('serving');
    } finally {
      await lru.kill();
    }
  });

  it('the sagas subgraph, which asks the catalog directly, exits 2 once connected on Consul with no allow-list, naming SUBGRAPH_ALLOW', async () => {
    const prefix = uniquePrefix('peer-refusal');
    const real = { REDIS_URL: realBackends.redisUrl, KAFKA_BROKERS: realBackends.kafkaBrokers.join(','), CONSUL_HTTP_ADDR: realBackends.consulUrl, ...kafkaVariables(process.env) };
    const scoped = { REDIS_KEY_PREFIX: `${prefix}:`, KAFKA_TOPIC_PREFIX: `${prefix}.`, CONSUL_NAMESPACE: prefix, TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN: 'true' };
    const { code, stdout } = await service('sagas', { ...real, ...scoped });
    expect(code).toBe(2);
    expect(stdout).toContain("asking peer subgraphs on Consul with no allow-list: any service registered under a peer's name is sent callers' tokens and believed; set SUBGRAPH_ALLOW (or TRELLIS_ALLOW_ANY_SUBGRAPH=true to accept it)");
    expect(stdout).not.toContain('serving');
  });

  it('the dev identity provider exits 2 naming TRELLIS_ALLOW_DEV_IDENTITY', async () => {
    const { code, stderr } = await service('identity');
    expect(code).toBe(2);
    expect(stderr).toContain('the development identity provider signs tokens for any subject and scopes: set AUTH_ISSUER to your issuer (or TRELLIS_ALLOW_DEV_IDENTITY=true to accept it)');
  });

  it('npm start exits non-zero before starting anything, with one message naming every problem', async () => {
    const { code, stderr, stdout } = await run('scripts/start.ts', [], { ADMIN_HOST: '0.0.0.0' });
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    for (const variable of ['REDIS_URL', 'KAFKA_BROKERS', 'CONSUL_HTTP_ADDR', 'ADMIN_TOKEN', 'AUTH_ISSUER', 'TRELLIS_ALLOW_EMBEDDED_BACKENDS', 'TRELLIS_ALLOW_OPEN_ADMIN', 'TRELLIS_ALLOW_DEV_IDENTITY']) {
      expect([variable, stderr.includes(variable)]).toEqual([variable, true]);
    }
    expect(stderr.match(/refuses to start unsafe/g)).toHaveLength(1);
  });

  it('refuses for exactly what is left once the rest is opted out, and starts once nothing is', async () => {
    const optOuts = { TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN: 'true', TRELLIS_ALLOW_OPEN_ADMIN: 'true' };
    const refused = await service('gateway', { ...BACKENDS, ADMIN_HOST: '0.0.0.0', ...optOuts });
    expect(refused.code).toBe(2);
    expect(refused.stderr.match(/^ {2}- .*$/gm)).toEqual([expect.stringContaining('SUBGRAPH_ALLOW')]);
    const printed = await run('scripts/service.ts', ['gateway', '--print-config'], { ...BACKENDS, ADMIN_HOST: '0.0.0.0', ...optOuts });
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout).production).toEqual({ embeddedBackends: false, anySubgraph: false, consulWithoutToken: true, openAdmin: true, devIdentity: false, kafkaSaslWithoutTls: false, evictingStateStore: false, localEntityCache: false });

    // The identity provider opted in starts and serves, in production.
    const port = await freePort();
    const identity = spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, 'scripts/service.ts'), 'identity'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(port), LOG_LEVEL: 'warn', TRELLIS_ALLOW_DEV_IDENTITY: 'true' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => identity.once('exit', resolve));
    try {
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200), 30_000, 100);
    } finally {
      identity.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
