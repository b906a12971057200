/**
 * A composition that never ends (a worker that computes for ever, in a real worker thread) is
 * killed at COMPOSITION_TIMEOUT_MS and counted as failed, on the gateway's metric and in its log;
 * the last good supergraph keeps serving meanwhile, and the next composition runs on a new worker.
 */
import { once } from 'node:events';
import path from 'node:path';
import { Registry } from 'prom-client';
import { DiscoverySupergraphManager } from '../../../gateway/supergraph/discoveryManager';
import { WorkerComposer } from '../../../gateway/supergraph/composer';
import { GatewayMetrics } from '../../../gateway/observability/metrics';
import { observability } from '../../../gateway/observability';
import type { SupergraphStatus } from '../../../gateway/supergraph/types';
import { InMemoryDiscovery } from '@trellis/kit/testing';
import { recordingLogger } from '../../support/recordingLogger';

/** The real composition worker, which loops for ever on a subgraph named "hang" (test/support/composer/dieOnRequest.ts). */
const HANGING_WORKER = path.resolve(__dirname, '../../support/composer/mortalComposeWorker.ts');
/** Generous for a cold composition on a loaded 2-core machine (about 0.7 s), so only the hang reaches it. */
const DEADLINE_MS = 3000;
const sdlOwning = (field: string) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { ${field}: String }`;

describe('composition deadline', () => {
  const discovery = new InMemoryDiscovery({ healthIntervalMs: 0 });
  const sdlAt = new Map<string, string>();
  const { logger, lines } = recordingLogger();
  const metrics = new GatewayMetrics(new Registry());
  const manager = new DiscoverySupergraphManager({
    discovery,
    logger,
    fetchSdl: async (url) => sdlAt.get(url) ?? Promise.reject(new Error(`no SDL at ${url}`)),
    composer: new WorkerComposer({ workerFile: HANGING_WORKER, timeoutMs: DEADLINE_MS }),
  });
  observability(metrics, manager);

  const register = async (name: string, field: string) => {
    const url = `http://${name}-1.test/graphql`;
    sdlAt.set(url, sdlOwning(field));
    await discovery.register({ id: `${name}-1`, name, url, healthUrl: `http://${name}-1.test/health` });
  };
  const next = async (event: 'served' | 'failed') => ((await once(manager, event)) as [SupergraphStatus])[0];

  afterAll(async () => {
    await manager.stop();
    await discovery.close();
  });

  it('kills a composition past its deadline, counts it as failed, keeps serving the last good supergraph, and applies the next good one', async () => {
    await manager.start();
    const servedFirst = next('served');
    await register('users', 'me');
    const good = await servedFirst;
    const goodSdl = manager.sdl();
    expect(goodSdl).toContain('me: String');

    const failed = next('failed');
    const started = performance.now();
    await register('hang', 'forever');
    const status = await failed;
    const elapsedMs = Math.round(performance.now() - started);
    process.stdout.write(`a hanging composition was killed and counted ${elapsedMs} ms after its subgraph registered (deadline ${DEADLINE_MS} ms)\n`);
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(status).toMatchObject({ hash: good.hash, version: good.version, compositionFailures: 1, lastError: { message: `composition ran past its ${DEADLINE_MS} ms deadline; its worker was terminated` } });
    expect(manager.sdl()).toBe(goodSdl);
    expect((await metrics.compositionFailures.get()).values).toEqual([{ value: 1, labels: {} }]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'supergraph composition failed', err: expect.stringContaining('deadline') }));

    // The hanging subgraph goes, another comes: composed on a new worker and served.
    const servedNext = next('served');
    await discovery.deregister('hang-1');
    await register('catalog', 'products');
    const applied = await servedNext;
    expect(applied.hash).not.toBe(good.hash);
    expect(applied.subgraphs.map((subgraph) => subgraph.name)).toEqual(['catalog', 'users']);
    expect(manager.sdl()).toContain('products: String');
    expect(manager.status().compositionFailures).toBe(1);
  });
});
