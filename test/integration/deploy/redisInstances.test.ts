/**
 * The two Redis that docker-compose.yml and the Kubernetes manifests run, validated without a Docker
 * engine or a cluster: the state store keeps an append-only file (fsync every second) on a volume and
 * never evicts; the caches have their own instance, bounded and LRU, reached through CACHE_REDIS_URL.
 * Each instance's flags are also given to a real redis-server here, which must start with them and
 * report the settings back: a flag Redis does not take, or reads otherwise, fails.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import Redis from 'ioredis';
import { composeConfig, ROOT } from '../../support/compose';
import { freePort } from '../../support/ports';
import { eventually } from '../../support/graphql';

/** `--name value` pairs of a redis-server command line (its first word, redis-server, left out). */
function redisFlags(command: string[]): Record<string, string> {
  const [program, ...args] = command;
  expect(program).toBe('redis-server');
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    expect(args[i]).toMatch(/^--[a-z-]+$/);
    flags[args[i].slice(2)] = args[i + 1];
  }
  return flags;
}

/** Starts redis-server on loopback with `flags` (its own port and folder instead of any given) and returns what CONFIG GET reports for `names`. */
async function configOfRedisStartedWith(flags: Record<string, string>, names: string[]): Promise<Record<string, string>> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'trellis-redis-flags-'));
  const args = Object.entries({ ...flags, port: String(port), bind: '127.0.0.1', dir }).flatMap(([name, value]) => [`--${name}`, value]);
  const server = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const connect = async () => {
    // A client per attempt: one whose first connection failed (the server not listening yet) stays closed.
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      client.disconnect();
      throw error;
    }
  };
  let client: Redis | undefined;
  try {
    client = await eventually(connect, 10_000, 50);
    const settings: Record<string, string> = {};
    for (const name of names) settings[name] = ((await client.config('GET', name)) as string[])[1];
    return settings;
  } finally {
    client?.disconnect();
    server.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const MB = 1024 * 1024;

describe('docker-compose.yml: the state store and the cache Redis', () => {
  const { services, volumes } = composeConfig();
  const trellis = Object.entries(services).filter(([name, service]) => service.image === 'trellis:local' && name !== 'idp');

  it('runs the state store with an append-only file fsynced every second on a named volume, and noeviction', async () => {
    const flags = redisFlags(services.redis.command!);
    expect(flags).toEqual({ appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': 'noeviction' });
    // The image's working folder, where the append-only file goes, is a named volume: it outlives the container.
    expect(services.redis.volumes).toEqual([{ source: 'redis-data', target: '/data', readOnly: false }]);
    expect(Object.keys(volumes)).toContain('redis-data');
    expect(await configOfRedisStartedWith(flags, ['appendonly', 'appendfsync', 'maxmemory-policy'])).toEqual({ appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': 'noeviction' });
  });

  it('runs the caches on their own Redis, bounded and LRU with nothing persisted, which every Trellis service reaches by CACHE_REDIS_URL', async () => {
    const flags = redisFlags(services['redis-cache'].command!);
    expect(flags).toEqual({ maxmemory: '64mb', 'maxmemory-policy': 'allkeys-lru', save: '', appendonly: 'no' });
    expect(services['redis-cache'].healthcheck).toBeDefined();
    expect(await configOfRedisStartedWith(flags, ['maxmemory', 'maxmemory-policy', 'save', 'appendonly'])).toEqual({ maxmemory: String(64 * MB), 'maxmemory-policy': 'allkeys-lru', save: '', appendonly: 'no' });
    expect(trellis.length).toBeGreaterThan(9);
    for (const [name, service] of trellis) {
      expect([name, service.environment?.REDIS_URL, service.environment?.CACHE_REDIS_URL]).toEqual([name, 'redis://redis:6379', 'redis://redis-cache:6379']);
      expect([name, service.depends_on?.['redis-cache']?.condition]).toEqual([name, 'service_healthy']);
    }
  });
});

describe('Kubernetes: deploy/kubernetes/redis, the two Redis the base points at', () => {
  type Container = { args: string[]; resources: { limits: { memory: string } }; volumeMounts?: Array<{ name: string; mountPath: string }> };
  type Manifest = {
    kind: string;
    metadata: { name: string; namespace?: string };
    spec?: {
      selector?: unknown;
      ports?: Array<{ port: number }>;
      template?: { spec: { containers: Container[] } };
      volumeClaimTemplates?: Array<{ metadata: { name: string }; spec: { accessModes: string[] } }>;
    };
    stringData?: Record<string, string>;
  };
  const build = (folder: string) => parseAllDocuments(execFileSync('kubectl', ['kustomize', path.join(ROOT, folder)], { encoding: 'utf8' })).map((document) => document.toJSON() as Manifest);
  const objects = build('deploy/kubernetes/redis');
  const named = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name)!;
  const container = (object: Manifest) => object.spec!.template!.spec.containers[0];
  const mebibytes = (quantity: string) => Number(/^(\d+)Mi$/.exec(quantity)?.[1] ?? Number(/^(\d+)Gi$/.exec(quantity)![1]) * 1024);

  it('builds with kustomize, and every object validates against the Kubernetes API schemas', () => {
    const checked = execFileSync(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, 'test/support/kubernetesSchemas.ts')], { cwd: ROOT, input: JSON.stringify(objects), encoding: 'utf8' });
    const results = JSON.parse(checked) as Array<{ kind: string; name: string; error?: string }>;
    expect(results.map((result) => `${result.kind} ${result.name}`).sort()).toEqual(['apps/v1/Deployment redis-cache', 'apps/v1/StatefulSet redis-master', 'v1/Namespace redis', 'v1/Service redis-cache', 'v1/Service redis-master']);
    expect(results.filter((result) => result.error)).toEqual([]);
  });

  it('runs the state store with an append-only file on a persistent volume and noeviction, maxmemory under its memory limit', async () => {
    const state = named('StatefulSet', 'redis-master');
    const redis = container(state);
    const { dir, ...flags } = redisFlags(redis.args);
    expect(flags).toEqual({ appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': 'noeviction', maxmemory: expect.stringMatching(/^\d+mb$/) });
    // Full, Redis refuses writes before the OOM killer stops the pod.
    expect(parseInt(flags.maxmemory, 10)).toBeLessThan(mebibytes(redis.resources.limits.memory));
    const [claim] = state.spec!.volumeClaimTemplates!;
    expect(redis.volumeMounts).toEqual([{ name: claim.metadata.name, mountPath: dir }]);
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(await configOfRedisStartedWith(flags, ['appendonly', 'appendfsync', 'maxmemory-policy', 'maxmemory'])).toEqual({ ...flags, maxmemory: String(parseInt(flags.maxmemory, 10) * MB) });
  });

  it('runs the caches bounded and LRU, nothing persisted, maxmemory under the memory limit', async () => {
    const redis = container(named('Deployment', 'redis-cache'));
    const flags = redisFlags(redis.args);
    expect(flags).toEqual({ maxmemory: expect.stringMatching(/^\d+mb$/), 'maxmemory-policy': 'allkeys-lru', save: '', appendonly: 'no' });
    expect(parseInt(flags.maxmemory, 10)).toBeLessThan(mebibytes(redis.resources.limits.memory));
    expect(await configOfRedisStartedWith(flags, ['maxmemory-policy', 'appendonly'])).toEqual({ 'maxmemory-policy': 'allkeys-lru', appendonly: 'no' });
  });

  it("is what the base's REDIS_URL and CACHE_REDIS_URL name: each Service, in its namespace, on its port", () => {
    const secret = build('deploy/kubernetes/base').find((object) => object.kind === 'Secret')!;
    const address = (name: string) => {
      const service = named('Service', name);
      return `redis://${name}.${service.metadata.namespace}.svc:${service.spec!.ports![0].port}`;
    };
    expect([secret.stringData!.REDIS_URL, secret.stringData!.CACHE_REDIS_URL]).toEqual([address('redis-master'), address('redis-cache')]);
  });
});
