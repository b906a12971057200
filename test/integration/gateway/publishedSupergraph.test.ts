/**
 * One published supergraph for every gateway, on a private 3-server Consul cluster (and a client
 * agent the gateways talk to): one gateway holds the composer lock and publishes by hash, every
 * gateway serves what is published. The composer SIGKILLed, its session destroyed, the Consul
 * leader killed, the agent gone: the lock hands over within seconds, the last good supergraph keeps
 * serving, and every gateway follows each new revision within 2 s of its composition.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { catalogSubgraph } from '../../../subgraphs/catalog';
import { usersSubgraph } from '../../../subgraphs/users';
import type { Subgraph } from '@trellis/kit';
import type { SupergraphStatus } from '../../../gateway/supergraph/types';
import { startConsulCluster, type ConsulCluster } from '../../support/consulCluster';
import { eventually, postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { metricValue } from '../../support/metrics';
import { freePort } from '../../support/ports';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PRODUCT = '{ product(id: "p2") { name } }';
const USER_AND_PRODUCT = '{ user(id: "u3") { name } product(id: "p2") { name } }';

interface Gateway {
  name: string;
  url: string;
  admin: string;
}

type Status = SupergraphStatus & { publication: NonNullable<SupergraphStatus['publication']> };

async function statusOf(gateway: Gateway): Promise<Status> {
  const response = await fetch(`${gateway.admin}/admin/supergraph`, { signal: AbortSignal.timeout(2000) });
  return (await response.json()) as Status;
}

/** A gateway process as `node --import tsx gateway/main.ts` starts it, so it can be SIGKILLed. */
async function gatewayProcess(env: Record<string, string>): Promise<Gateway & { child: ChildProcess }> {
  const [port, adminPort] = await Promise.all([freePort(), freePort()]);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(port), ADMIN_PORT: String(adminPort), LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' };
  for (const name of ['REDIS_URL', 'KAFKA_BROKERS', 'SUPERGRAPH_PATH', 'TRELLIS_DEVHUB_URL']) delete childEnv[name];
  const child = spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', 'gateway/main.ts'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  return { name: 'process', child, url: `http://127.0.0.1:${port}/graphql`, admin: `http://127.0.0.1:${adminPort}` };
}

const inProcess = (name: string, gateway: InProcessGateway): Gateway => ({ name, url: gateway.url, admin: gateway.server.admin.url });

/** Waits until every gateway serves one hash other than `previous`, published by one of them; how long each took after its composition. */
async function allServeNew(gateways: Gateway[], previous: string | null, timeoutMs = 30_000): Promise<{ hash: string; lagMs: number[]; statuses: Status[] }> {
  const seenAt = new Map<string, { at: number; status: Status }>();
  await eventually(async () => {
    for (const gateway of gateways) {
      if (seenAt.has(gateway.name)) continue;
      const status = await statusOf(gateway);
      if (status.hash && status.hash !== previous) seenAt.set(gateway.name, { at: Date.now(), status });
    }
    expect(seenAt.size).toBe(gateways.length);
  }, timeoutMs, 25);
  const statuses = gateways.map((gateway) => seenAt.get(gateway.name)!.status);
  const hashes = new Set(statuses.map((status) => status.hash));
  expect(hashes.size).toBe(1);
  // Lag behind the composition: when the gateway was seen serving it, less when the composer published it.
  const lagMs = gateways.map((gateway) => seenAt.get(gateway.name)!.at - Date.parse(seenAt.get(gateway.name)!.status.composedAt!));
  return { hash: [...hashes][0]!, lagMs, statuses };
}

describe('one published supergraph on a 3-server Consul cluster', () => {
  let cluster: ConsulCluster;
  let env: Record<string, string>;
  let first: Gateway & { child: ChildProcess };
  const inProcessGateways: InProcessGateway[] = [];
  let second: Gateway;
  let third: Gateway;
  const subgraphs: Subgraph[] = [];
  let users: Subgraph | undefined;
  let served: string | null = null;

  beforeAll(async () => {
    cluster = await startConsulCluster();
    env = { CONSUL_HTTP_ADDR: cluster.client.url, CONSUL_CHECK_INTERVAL: '300ms', SUPERGRAPH_LOCK_DELAY: '1s', SUPERGRAPH_COMPOSER_CHECK_TTL: '2s' };
    subgraphs.push(await startSubgraph(catalogSubgraph, env));
    // The process gateway starts alone, so it is the composer the SIGKILL below takes away.
    first = await gatewayProcess(env);
    await eventually(async () => expect((await statusOf(first)).publication.composer).toBe(true), 60_000, 200);
    for (let i = 0; i < 2; i++) inProcessGateways.push(await startGateway(env));
    [second, third] = inProcessGateways.map((gateway, i) => inProcess(['second', 'third'][i], gateway));
  }, 180_000);

  afterAll(async () => {
    first?.child.kill('SIGKILL');
    for (const gateway of inProcessGateways) await gateway.stop().catch(() => undefined);
    for (const subgraph of [...subgraphs, users]) await subgraph?.stop().catch(() => undefined);
    await cluster?.stop();
  });

  it('elects one composer, and every gateway serves the hash it published', async () => {
    const gateways = [first, second, third];
    await eventually(async () => {
      const statuses = await Promise.all(gateways.map(statusOf));
      expect(new Set(statuses.map((status) => status.hash)).size).toBe(1);
      expect(statuses[0].hash).toMatch(/^[0-9a-f]{64}$/);
      expect(statuses.map((status) => status.publication.composer)).toEqual([true, false, false]);
      for (const status of statuses) expect(status.publication).toMatchObject({ publishedBy: statuses[0].publication.holder, reachable: true, staleSeconds: 0 });
    }, 30_000, 100);
    served = (await statusOf(first)).hash;
    for (const gateway of gateways) expect((await postGraphQL(gateway.url, PRODUCT)).body.data).toEqual({ product: { name: 'Federation Hoodie' } });
    expect(await metricValue(`${second.admin}/metrics`, 'trellis_supergraph_composer')).toBe(0);
    expect(await metricValue(`${first.admin}/metrics`, 'trellis_supergraph_composer')).toBe(1);
    // What the console renders: the hash, and who published it.
    const consoleJson = (await (await fetch(`${second.admin}/admin/console.json`)).json()) as { supergraph: Status };
    expect(consoleJson.supergraph).toMatchObject({ hash: served, publication: { publishedBy: (await statusOf(first)).publication.holder, composer: false } });
  });

  it('serves a new subgraph revision on every gateway within 2 s of its composition', async () => {
    users = await startSubgraph(usersSubgraph, env);
    const { hash, lagMs } = await allServeNew([first, second, third], served);
    console.log(`new revision served ${lagMs.map((ms) => `${ms} ms`).join(', ')} after its composition (process, second, third gateway)`);
    for (const lag of lagMs) expect(lag).toBeLessThan(2000);
    served = hash;
    for (const gateway of [first, second, third]) {
      expect((await postGraphQL(gateway.url, USER_AND_PRODUCT)).body.data).toEqual({ user: { name: 'Alan Turing' }, product: { name: 'Federation Hoodie' } });
    }
  });

  it('hands the lock over within seconds when the composer is SIGKILLed, and the new composer publishes', async () => {
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    const composer = await eventually(async () => {
      const statuses = await Promise.all([second, third].map(statusOf));
      const composers = [second, third].filter((_gateway, i) => statuses[i].publication.composer);
      expect(composers).toHaveLength(1);
      return composers[0];
    }, 30_000, 50);
    const handoverMs = Date.now() - killedAt;
    console.log(`composer SIGKILLed: ${composer.name} gateway composes ${handoverMs} ms later`);
    // The killed composer's check TTL (2 s) + lock delay (1 s), with margin for a loaded machine.
    expect(handoverMs).toBeLessThan(10_000);

    await users!.stop();
    users = undefined;
    const { hash, statuses } = await allServeNew([second, third], served);
    const holder = (await statusOf(composer)).publication.holder;
    for (const status of statuses) expect(status.publication.publishedBy).toBe(holder);
    served = hash;
  });

  it('hands the lock over within seconds when the composer session is destroyed', async () => {
    const [before] = await Promise.all([second, third].map(statusOf).slice(0, 1));
    const composer = before.publication.composer ? second : third;
    const other = composer === second ? third : second;
    const lock = (await (await fetch(`${cluster.client.url}/v1/kv/trellis/supergraph/lock`)).json()) as Array<{ Session: string }>;
    const destroyedAt = Date.now();
    await fetch(`${cluster.client.url}/v1/session/destroy/${lock[0].Session}`, { method: 'PUT' });
    await eventually(async () => expect((await statusOf(other)).publication.composer).toBe(true), 30_000, 50);
    console.log(`composer session destroyed: the ${other.name} gateway composes ${Date.now() - destroyedAt} ms later`);
    expect(Date.now() - destroyedAt).toBeLessThan(10_000);
    expect((await statusOf(composer)).publication.composer).toBe(false);
  });

  it('keeps discovery, registration and the lock working when the Consul leader is killed', async () => {
    const leader = await cluster.leader();
    const killedAt = Date.now();
    await leader.kill();
    users = await startSubgraph(usersSubgraph, env);
    const { hash } = await allServeNew([second, third], served);
    console.log(`Consul leader killed: a subgraph registered meanwhile is served by both gateways ${Date.now() - killedAt} ms after the kill`);
    served = hash;
    const next = await cluster.leader();
    expect(next.name).not.toBe(leader.name);
    await eventually(async () => {
      const statuses = await Promise.all([second, third].map(statusOf));
      expect(statuses.filter((status) => status.publication.composer)).toHaveLength(1);
    }, 10_000, 100);
    for (const gateway of [second, third]) {
      await eventually(async () => expect((await postGraphQL(gateway.url, USER_AND_PRODUCT)).body).toEqual({ data: { user: { name: 'Alan Turing' }, product: { name: 'Federation Hoodie' } } }), 10_000, 100);
    }
  });

  it('keeps the last good supergraph while KV is unreachable, says so, and reads again when it returns', async () => {
    await cluster.client.kill();
    for (const gateway of [second, third]) {
      await eventually(async () => {
        const status = await statusOf(gateway);
        expect(status.publication.reachable).toBe(false);
        expect(status.publication.staleSeconds).toBeGreaterThan(0);
        expect(status.hash).toBe(served);
      }, 30_000, 100);
      expect(await metricValue(`${gateway.admin}/metrics`, 'trellis_supergraph_kv_stale_seconds')).toBeGreaterThan(0);
      expect((await postGraphQL(gateway.url, USER_AND_PRODUCT)).body.data).toEqual({ user: { name: 'Alan Turing' }, product: { name: 'Federation Hoodie' } });
    }
    await cluster.client.restart();
    for (const gateway of [second, third]) {
      await eventually(async () => expect((await statusOf(gateway)).publication).toMatchObject({ reachable: true, staleSeconds: 0 }), 30_000, 100);
      expect((await statusOf(gateway)).hash).toBe(served);
    }
  });
});
