/**
 * The elected composer's composition hangs (a worker that computes for ever): it is killed at its
 * deadline, logged and counted as timed out; the published supergraph stays the last good one (in
 * Consul KV and on the gateway), and the next change is composed on a new worker and published.
 * Real Consul (a private agent), real worker threads.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Registry } from 'prom-client';
import { ConsulDiscovery } from '@trellis/kit/internal/discovery';
import { DiscoverySupergraphManager } from '../../../gateway/supergraph/discoveryManager';
import { WorkerComposer } from '../../../gateway/supergraph/composer';
import { GatewayMetrics } from '../../../gateway/observability/metrics';
import { observability } from '../../../gateway/observability';
import type { CompositionOutcome, SupergraphStatus } from '../../../gateway/supergraph/types';
import { privateConsul, type PrivateServer } from '../../support/privateServers';
import { recordingLogger } from '../../support/recordingLogger';
import { eventually } from '../../support/graphql';

const HANGING_WORKER = path.resolve(__dirname, '../../support/composer/mortalComposeWorker.ts');
/** Generous for a cold composition on a loaded 2-core machine, so only the hang reaches it. */
const DEADLINE_MS = 3000;
const sdlOwning = (field: string) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { ${field}: String }`;

describe('a hanging composition on the elected composer', () => {
  let consul: PrivateServer;
  let discovery: ConsulDiscovery;
  let manager: DiscoverySupergraphManager;
  let health: Server;
  let port: number;
  const sdlAt = new Map<string, string>();
  const { logger, lines } = recordingLogger();
  const metrics = new GatewayMetrics(new Registry());

  beforeAll(async () => {
    consul = await privateConsul();
    await consul.start();
    health = createServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
    port = (health.address() as AddressInfo).port;
    discovery = new ConsulDiscovery({ url: consul.url, checkInterval: '300ms', blockingWait: '5s', logger });
    manager = new DiscoverySupergraphManager({
      discovery,
      logger,
      fetchSdl: async (url) => sdlAt.get(url) ?? Promise.reject(new Error(`no SDL at ${url}`)),
      composer: new WorkerComposer({ workerFile: HANGING_WORKER, timeoutMs: DEADLINE_MS }),
      publication: discovery.supergraphPublication(),
    });
    observability(metrics, manager);
    await manager.start();
  });

  afterAll(async () => {
    await manager?.stop();
    await discovery?.close();
    await new Promise((resolve) => health?.close(resolve));
    await consul?.kill();
  });

  const register = async (name: string, field: string) => {
    const url = `http://127.0.0.1:${port}/${name}/graphql`;
    sdlAt.set(url, sdlOwning(field));
    await discovery.register({ id: `${name}-1`, name, url, healthUrl: `http://127.0.0.1:${port}/health` });
  };
  const currentHash = async () => ((await (await fetch(`${consul.url}/v1/kv/trellis/supergraph/current?raw`)).json()) as { hash: string }).hash;

  it('kills it at its deadline, counts it as timed out, keeps the published supergraph, and publishes the next good one', async () => {
    const servedFirst = once(manager, 'served');
    await register('users', 'me');
    const [good] = (await servedFirst) as [SupergraphStatus];
    expect(good.publication).toMatchObject({ composer: true, publishedBy: good.publication!.holder });
    expect(await currentHash()).toBe(good.hash);

    const outcomes: CompositionOutcome[] = [];
    manager.on('composition', (outcome) => outcomes.push(outcome));
    const started = performance.now();
    await register('hang', 'forever');
    await eventually(async () => expect(outcomes).toContain('timed_out'), 30_000, 50);
    const elapsedMs = Math.round(performance.now() - started);
    process.stdout.write(`the composer's hanging composition was abandoned ${elapsedMs} ms after its subgraph registered (deadline ${DEADLINE_MS} ms)\n`);
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(manager.status()).toMatchObject({ hash: good.hash, lastError: { message: `composition ran past its ${DEADLINE_MS} ms deadline; its worker was terminated` } });
    expect(await currentHash()).toBe(good.hash);
    expect((await metrics.compositions.get()).values).toContainEqual({ value: 1, labels: { outcome: 'timed_out' } });
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'supergraph composition failed', err: expect.stringContaining('deadline') }));

    // The hanging subgraph goes, another comes: composed on a new worker, published, served.
    await discovery.deregister('hang-1');
    await register('catalog', 'products');
    await eventually(async () => expect(manager.status().subgraphs.map((subgraph) => subgraph.name)).toEqual(['catalog', 'users']), 30_000, 50);
    const next = manager.status();
    expect(next.hash).not.toBe(good.hash);
    expect(await currentHash()).toBe(next.hash);
    expect(manager.sdl()).toContain('products: String');
    expect((await metrics.compositions.get()).values).toContainEqual({ value: 2, labels: { outcome: 'ok' } });
  });
});
