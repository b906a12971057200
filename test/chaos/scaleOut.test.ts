/**
 * Scale-out chaos on the cluster profile (`npm run test:cluster`): `TRELLIS_REPLICAS=2 npm start`
 * on the Sentinel set (REDIS_MIN_REPLICAS_ACK=1), the cache Redis, the secured Kafka cluster and
 * the Consul client agent, under a steady placeOrder load (many users, varied orders, one
 * idempotency key each) and a steady query load, both through the two gateways. In turn: the Redis
 * primary is SIGKILLed (Sentinel fails over; `up cluster` brings it back as a replica), the Consul
 * leader is SIGKILLed (and brought back), the users subgraph is deployed at a new revision (new
 * instances with a field added, then the old ones stopped), and the gateway holding the composer
 * lock is SIGKILLed.
 * Afterwards every saga placeOrder acknowledged is in the store and terminal, none FAILED, no order
 * charged twice; at least 99.9% of the gateway requests were answered; and every live gateway
 * served each supergraph of the deploy within 2 s of its composition.
 *
 * The loads go through a balancer (test/support/balancedGateways.ts) as a real load balancer in
 * front of the gateways would: a request that gets no HTTP answer from one gateway (the killed one
 * refuses connections) takes it out of rotation and is sent once to the other; such requests count
 * as answered only if the other gateway answered, and how many needed it is printed. A partial
 * answer or an error with an `extensions.code` counts as answered.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { createLogger } from '@trellis/kit';
import { RedisStateStore } from '@trellis/kit/internal/state';
import { sagaKey, TERMINAL_STATES, type SagaRecord } from '@trellis/kit/saga';
import { startPlatform, REPLICA_PORT_STEP, type RunningPlatform } from '../support/platform';
import { eventually } from '../support/graphql';
import { platformToken } from '../support/identity';
import { freePort } from '../support/ports';
import { launcherChildren, killService, restartService, stopRestarted } from '../support/serviceProcess';
import { consulLeader, hostPorts, killProcess, profileProcesses, sentinelMaster, upCluster } from '../support/clusterProfile';
import { CLUSTER_HOWTO } from '../support/cluster';
import { uniquePrefix } from '../support/backends';
import { BalancedGateways } from '../support/balancedGateways';
import { queryLoad, sagaLoad, type SagaLoad, type SteadyLoad } from '../support/scaleOutLoad';
import { SupergraphWatch } from '../support/supergraphConvergence';
import { PaymentLedger } from '../../subgraphs/payments/ledger';
import { EmbeddedPaymentProvider } from '../../subgraphs/payments/provider';
import { OrderBook } from '../../subgraphs/orders/orderBook';
import type { PlaceOrderInput } from '../../subgraphs/sagas/placeOrderSaga';

const REVISION_ENTRY = path.resolve(__dirname, '../fixtures/users-revision/main.ts');
const SAGA_EVERY_MS = 400;
const QUERY_EVERY_MS = 100;
/** Requests the loads send after each recovery before the next fault: the platform is seen working again, under load. */
const AFTER_EACH_FAULT = { sagas: 5, requests: 60 };
const ANSWERED_FLOOR = 0.999;
const CONVERGENCE_LIMIT_MS = 2000;

function profile() {
  const names = ['REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'CACHE_REDIS_URL', 'CONSUL_HTTP_ADDR', 'KAFKA_SSL'] as const;
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`the scale-out test needs the cluster profile (${missing.join(', ')} not set): ${CLUSTER_HOWTO}`);
  return { sentinels: hostPorts(process.env.REDIS_SENTINELS!), masterName: process.env.REDIS_SENTINEL_NAME!, consulAgent: process.env.CONSUL_HTTP_ADDR! };
}

/** Whether the Redis at `port` has a replica online (with REDIS_MIN_REPLICAS_ACK=1, what writes wait for). */
async function hasOnlineReplica(port: number): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return /slave\d+:.*state=online/.test(await client.info('replication'));
  } finally {
    client.disconnect();
  }
}

describe('scale-out chaos: 2 of everything on the cluster profile, under load, through four faults', () => {
  const cluster = profile();
  const runId = uniquePrefix('scale');
  /** Every line the platform printed, written when the test ends. */
  const platformLog = path.join(os.tmpdir(), `trellis-${runId}.log`);
  let platform: RunningPlatform;
  let gateways: BalancedGateways;
  let watch: SupergraphWatch;
  let sagas: SagaLoad | undefined;
  let queries: SteadyLoad | undefined;
  let gatewayPorts: number[];
  let adminUrls: string[];
  let revisionServes = false;
  const revisions: ChildProcess[] = [];
  const timeline: string[] = [];
  const measured: Record<string, string> = {};
  let t0 = 0;
  /** Each line of the timeline with when it was noted: placeOrder refusals are counted between them. */
  const noted: number[] = [];
  const note = (line: string) => {
    noted.push(Date.now());
    timeline.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${line}`);
  };
  /** placeOrder refusals by code between the previous line of the timeline and line `i`. */
  const refusedBefore = (i: number) => {
    const counts: Record<string, number> = {};
    for (const { code, at } of sagas?.refused ?? []) if (at <= noted[i] && (i === 0 || at > noted[i - 1])) counts[code] = (counts[code] ?? 0) + 1;
    return Object.keys(counts).length > 0 ? `   [placeOrder refused meanwhile: ${JSON.stringify(counts)}]` : '';
  };

  /** Resolves once the loads have sent and had answered this many more since it was called: the platform is seen working. */
  const loadsGoOn = async (label: string, timeoutMs = 90_000) => {
    const sagasBefore = sagas!.acknowledged.length;
    const answeredBefore = gateways.tally.answered;
    await eventually(
      async () => {
        expect(sagas!.acknowledged.length - sagasBefore).toBeGreaterThanOrEqual(AFTER_EACH_FAULT.sagas);
        expect(gateways.tally.answered - answeredBefore).toBeGreaterThanOrEqual(AFTER_EACH_FAULT.requests);
      },
      timeoutMs,
      100,
    );
    note(`${label}: ${AFTER_EACH_FAULT.sagas} more sagas acknowledged, ${AFTER_EACH_FAULT.requests} more requests answered`);
  };

  beforeAll(async () => {
    // Every part of the profile running (a no-op when it is), whatever an earlier run left.
    await upCluster();
    platform = await startPlatform({ backends: 'real', replicas: 2, timeoutMs: 300_000, env: { REDIS_MIN_REPLICAS_ACK: '1' } });
    t0 = Date.now();
    gatewayPorts = [0, 1].map((k) => platform.base + REPLICA_PORT_STEP * k);
    adminUrls = gatewayPorts.map((port) => `http://127.0.0.1:${port + 700}`);
    watch = new SupergraphWatch(adminUrls);
    watch.start();
    await eventually(
      async () => {
        const [first, second] = adminUrls.map((url) => watch.current(url)?.hash);
        expect(first).toBeDefined();
        expect(second).toBe(first);
      },
      60_000,
      100,
    );
    const users = await Promise.all(Array.from({ length: 12 }, async (_, i) => ({ id: `u-scale-${i + 1}`, authorization: `Bearer ${await platformToken(platform.base, `u-scale-${i + 1}`)}` })));
    const reader = `Bearer ${await platformToken(platform.base, 'u1', ['payments:read'])}`;
    gateways = new BalancedGateways(gatewayPorts.map((port) => `http://127.0.0.1:${port}/graphql`));
    sagas = sagaLoad(gateways, users, runId, SAGA_EVERY_MS);
    queries = queryLoad(gateways, reader, QUERY_EVERY_MS, () => (revisionServes ? ['{ users { id handle } }'] : []));
    note(`platform up (base ${platform.base}), loads started`);
    await loadsGoOn('steady');
  }, 420_000);

  afterAll(async () => {
    watch?.stop();
    await sagas?.stop();
    await queries?.stop();
    await Promise.all(revisions.map((child) => stopRestarted(child)));
    if (platform) {
      await platform.stop();
      writeFileSync(platformLog, platform.output());
    }
    // The profile whole again for whatever runs next, even if a fault's recovery failed.
    await upCluster();
  }, 180_000);

  it('rides out a SIGKILL of the Redis primary: Sentinel promotes the replica, and the old primary rejoins as its replica', async () => {
    const primary = await sentinelMaster(cluster.sentinels[0].port, cluster.masterName);
    const node = (await profileProcesses('redis-cluster.sh')).find((candidate) => candidate.port === primary)!;
    const killedAt = Date.now();
    await killProcess(node.name);
    note(`SIGKILL Redis primary ${node.name} (:${primary})`);
    const promoted = await eventually(
      async () => {
        const now = await sentinelMaster(cluster.sentinels[0].port, cluster.masterName);
        expect(now).not.toBe(primary);
        return now;
      },
      60_000,
      100,
    );
    measured['redis failover'] = `${Date.now() - killedAt} ms (kill to Sentinels naming :${promoted})`;
    note(`Sentinels name :${promoted} primary`);
    await upCluster();
    await eventually(async () => expect(await hasOnlineReplica(promoted)).toBe(true), 60_000, 100);
    measured['redis replica back'] = `${Date.now() - killedAt} ms (kill to ${node.name} online as a replica of :${promoted})`;
    note(`${node.name} back, a replica of :${promoted}`);
    await loadsGoOn('after the Redis failover');
    const firstAck = sagas!.acknowledged.find((saga) => saga.at > killedAt)!;
    measured['redis: first saga acknowledged'] = `${firstAck.at - killedAt} ms after the kill`;
  });

  it('rides out a SIGKILL of the Consul leader, and `up cluster` brings it back as a follower', async () => {
    const leader = await consulLeader(cluster.consulAgent);
    const node = (await profileProcesses('consul-cluster.sh')).find((candidate) => candidate.rpcPort && `127.0.0.1:${candidate.rpcPort}` === leader)!;
    expect(node).toBeDefined();
    const killedAt = Date.now();
    await killProcess(node.name);
    note(`SIGKILL Consul leader ${node.name} (${leader})`);
    const elected = await eventually(
      async () => {
        const now = await consulLeader(cluster.consulAgent);
        expect(now).not.toBe(leader);
        expect(now).toMatch(/^127\.0\.0\.1:\d+$/);
        return now;
      },
      60_000,
      100,
    );
    measured['consul election'] = `${Date.now() - killedAt} ms (kill to the agent naming ${elected})`;
    note(`Consul leader ${elected}`);
    await upCluster();
    await eventually(
      async () => {
        const peers = (await (await fetch(`${cluster.consulAgent}/v1/status/peers`, { signal: AbortSignal.timeout(2000) })).json()) as string[];
        expect(peers).toHaveLength(3);
        expect(await consulLeader(cluster.consulAgent)).toMatch(/^127\.0\.0\.1:\d+$/);
      },
      60_000,
      200,
    );
    note(`${node.name} back: three Consul servers`);
    await loadsGoOn('after the Consul election');
  });

  it('deploys a new revision of the users subgraph: every gateway serves each supergraph of the deploy within 2 s of its composition', async () => {
    const old = launcherChildren(platform.pid).filter((child) => child.env.SERVICE_NAME === 'users');
    expect(old).toHaveLength(2);
    const deployedAt = Date.now();
    // New instances first (two, as the old), then the old ones stopped as a deploy stops them (SIGTERM: they deregister).
    for (const instance of old) revisions.push(await restartService(instance, 120_000, { entry: REVISION_ENTRY, port: await freePort() }));
    note('two users instances at the new revision ready');
    await Promise.all(old.map((instance) => killService(instance, 30_000, 'SIGTERM')));
    note('the two old users instances stopped');
    // Every live gateway serves a supergraph with the new field, the same one.
    const served = await eventually(
      async () => {
        const hashes = adminUrls.map((url) => watch.current(url)?.hash);
        expect(new Set(hashes).size).toBe(1);
        for (const url of adminUrls) expect(await (await fetch(`${url}/admin/supergraph.graphql`)).text()).toMatch(/\bhandle: String!/);
        expect(adminUrls.map((url) => watch.current(url)?.hash)).toEqual(hashes);
        return hashes[0]!;
      },
      90_000,
      100,
    );
    const composed = watch.hashesComposedAfter(deployedAt);
    expect(composed).toContain(served);
    const convergence = composed.map((hash) => ({ hash: hash.slice(0, 12), ms: watch.convergenceMs(hash) }));
    measured['deploy: supergraphs composed'] = convergence.map(({ hash, ms }) => `${hash} on every gateway ${ms} ms after composing`).join('; ');
    note(`every gateway serves ${served.slice(0, 12)} (with User.handle)`);
    for (const { ms } of convergence) {
      expect(ms).toBeDefined();
      expect(ms!).toBeLessThanOrEqual(CONVERGENCE_LIMIT_MS);
    }
    revisionServes = true;
    await loadsGoOn('after the deploy');
    // The new field answers through both gateways (each asked directly, not through the balancer).
    for (const port of gatewayPorts) {
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ user(id: "u2") { id handle } }' }) });
      expect(await response.json()).toEqual({ data: { user: { id: 'u2', handle: '@u2' } } });
    }
  });

  it('loses one gateway to SIGKILL: the other keeps answering and takes over composing', async () => {
    // The composer, so its hand-over is part of the fault.
    const victimIndex = Math.max(0, adminUrls.findIndex((url) => watch.isComposer(url)));
    const survivor = adminUrls[1 - victimIndex];
    const victim = launcherChildren(platform.pid).find((child) => child.env.SERVICE_NAME === 'gateway' && Number(child.env.PORT) === gatewayPorts[victimIndex])!;
    const wasComposer = watch.isComposer(adminUrls[victimIndex]);
    const killedAt = Date.now();
    await killService(victim);
    watch.drop(adminUrls[victimIndex]);
    note(`SIGKILL gateway :${gatewayPorts[victimIndex]}${wasComposer ? ' (the composer)' : ''}`);
    await eventually(async () => expect(watch.isComposer(survivor)).toBe(true), 60_000, 100);
    measured['gateway: composer hand-over'] = `${Date.now() - killedAt} ms (kill to the survivor holding the lock)`;
    note(`gateway :${gatewayPorts[1 - victimIndex]} composes`);
    await loadsGoOn('after the gateway kill');
  });

  it('leaves every saga placeOrder acknowledged in the store and terminal, none FAILED, no order charged twice', async () => {
    await Promise.all([sagas!.stop(), queries!.stop()]);
    note('loads stopped');
    const logger = createLogger({ service: 'scale-out-test', level: 'silent' });
    const state = new RedisStateStore({ topology: { kind: 'sentinel', sentinels: cluster.sentinels, name: cluster.masterName }, keyPrefix: platform.backendEnv.REDIS_KEY_PREFIX, logger });
    try {
      const acknowledged = sagas!.acknowledged;
      expect(acknowledged.length).toBeGreaterThan(0);
      const read = async () =>
        Promise.all(acknowledged.map(async ({ sagaId }) => {
          const stored = await state.getVersioned(sagaKey(sagaId));
          return stored ? (JSON.parse(stored.value) as SagaRecord<PlaceOrderInput>) : null;
        }));
      let records: Array<SagaRecord<PlaceOrderInput> | null> = [];
      await eventually(
        async () => {
          records = await read();
          expect(records.filter((record) => record && !TERMINAL_STATES.has(record.state)).map((record) => `${record!.id} ${record!.state}`)).toEqual([]);
        },
        180_000,
        500,
      );
      note('every acknowledged saga terminal');
      const missing = acknowledged.filter((_, i) => !records[i]).map(({ sagaId }) => sagaId);
      const byState: Record<string, number> = {};
      for (const record of records) if (record) byState[record.state] = (byState[record.state] ?? 0) + 1;
      const provider = new EmbeddedPaymentProvider(state);
      const ledger = new PaymentLedger(state, undefined, provider);
      const orders = new OrderBook(state);
      const wrong: string[] = [];
      for (const record of records) {
        if (!record) continue;
        const { orderId } = record.input;
        const [books, payment, order] = await Promise.all([provider.books(orderId), ledger.forOrder(orderId), orders.find(orderId)]);
        const charged = books.captures - books.refunds;
        if (books.captures > 1) wrong.push(`${record.id}: captured ${books.captures} times`);
        if (record.state === 'COMPLETED' && (charged !== 1 || payment?.state !== 'CAPTURED' || order?.status !== 'CONFIRMED')) {
          wrong.push(`${record.id} COMPLETED: charged ${charged}, payment ${payment?.state}, order ${order?.status}`);
        }
        if (record.state === 'COMPENSATED' && (charged !== 0 || (payment && payment.state !== 'REFUNDED') || (order && order.status !== 'CANCELLED'))) {
          wrong.push(`${record.id} COMPENSATED: charged ${charged}, payment ${payment?.state}, order ${order?.status}`);
        }
      }
      measured['sagas'] = `${sagas!.sent} placeOrder sent, ${acknowledged.length} acknowledged, refused ${sagas!.refused.length} (by code, between the lines above); in the store ${acknowledged.length - missing.length}, by state ${JSON.stringify(byState)}`;
      expect(missing).toEqual([]);
      expect(byState.FAILED ?? 0).toBe(0);
      expect(wrong).toEqual([]);
    } finally {
      await state.close();
    }
  }, 240_000);

  it(`answered at least ${ANSWERED_FLOOR * 100}% of the gateway requests`, () => {
    const { tally } = gateways;
    const share = tally.answered / tally.requests;
    measured['requests'] = `${tally.requests} sent, ${tally.answered} answered (${(share * 100).toFixed(2)}%; ${tally.clean} without errors, with errors by code ${JSON.stringify(tally.errorCodes)}), ${tally.resent} resent to the other gateway, ${tally.unanswered} unanswered`;
    // Below the floor, the first unanswered requests and why are the failure's message.
    expect(share >= ANSWERED_FLOOR ? [] : tally.failures).toEqual([]);
    expect(share).toBeGreaterThanOrEqual(ANSWERED_FLOOR);
  });

  it('prints its counts', () => {
    console.log([`scale-out chaos (the platform's output: ${platformLog})`, ...timeline.map((line, i) => `  ${line}${refusedBefore(i)}`), ...Object.entries(measured).map(([name, value]) => `  ${name.padEnd(34)} ${value}`)].join('\n'));
    expect(timeline.length).toBeGreaterThan(0);
  });
});
