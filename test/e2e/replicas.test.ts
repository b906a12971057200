/**
 * `TRELLIS_REPLICAS=2 npm start`: two of every service, the second on the first one's ports plus
 * 10000, both on the launcher's dev hub. Both gateways answer the same, sagas placed through one
 * are read through the other to their end, the printed list names every port, and stopping leaves no process
 * and no listening port behind.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startPlatform, REPLICA_PORT_STEP, type RunningPlatform } from '../support/platform';
import { eventually, postGraphQL } from '../support/graphql';
import { platformToken } from '../support/identity';
import { launcherChildren } from '../support/serviceProcess';
import { accepts, alive } from '../support/privateServers';

const SERVICES = ['users', 'catalog', 'orders', 'payments', 'sagas', 'gateway', 'web-bff', 'mobile-bff'];
/** Each replica's listeners, as offsets of its base: the gateway, five subgraphs, the BFFs, the gateway's admin. */
const OFFSETS = [0, 1, 2, 3, 4, 5, 100, 200, 700];
const ACROSS_SUBGRAPHS = `{ user(id: "u1") { name orders { total status items { quantity product { name } } payment { state } } } }`;
const PLACE_ORDER = `mutation($items: [OrderItemInput!]!) { placeOrder(input: { items: $items, paymentMethod: "card-ok" }) { sagaId state } }`;
const SAGA = 'query($id: ID!) { saga(id: $id) { id state steps { name state } } }';

describe('TRELLIS_REPLICAS=2 npm start', () => {
  let platform: RunningPlatform;
  let gateways: string[];
  let buyer: { authorization: string };

  beforeAll(async () => {
    platform = await startPlatform({ replicas: 2, timeoutMs: 180_000 });
    gateways = [0, 1].map((k) => `http://127.0.0.1:${platform.base + REPLICA_PORT_STEP * k}/graphql`);
    buyer = { authorization: `Bearer ${await platformToken(platform.base, 'u1', ['payments:read'])}` };
  }, 200_000);

  afterAll(async () => {
    if (platform) await platform.stop();
  });

  it('prints every replica\'s every port, and each of them listens', async () => {
    const ports = [0, 1].flatMap((k) => OFFSETS.map((offset) => platform.base + REPLICA_PORT_STEP * k + offset));
    const printed = [...platform.output().matchAll(/127\.0\.0\.1:(\d+)/g)].map((match) => Number(match[1]));
    expect(ports.filter((port) => !printed.includes(port))).toEqual([]);
    const listening = await Promise.all(ports.map(accepts));
    expect(ports.filter((_, i) => !listening[i])).toEqual([]);
    // Each replica's services answer ready on their own ports; each gateway's admin listener serves its metrics.
    for (const k of [0, 1]) {
      const block = platform.base + REPLICA_PORT_STEP * k;
      for (const offset of [0, 1, 2, 3, 4, 5, 100, 200]) expect([offset + block, (await fetch(`http://127.0.0.1:${block + offset}/health/ready`)).status]).toEqual([offset + block, 200]);
      expect((await fetch(`http://127.0.0.1:${block + 700}/metrics`)).status).toBe(200);
    }
  });

  it('runs two processes of every service', () => {
    const names = launcherChildren(platform.pid).map((child) => child.env.SERVICE_NAME).sort();
    expect(names).toEqual(SERVICES.flatMap((name) => [name, name]).sort());
  });

  it('composes, in each gateway, both replicas of every subgraph into the same supergraph', async () => {
    const instancesOf = (name: string) => [0, 1].map((k) => `${name}-127.0.0.1-${platform.base + REPLICA_PORT_STEP * k + 1 + SERVICES.indexOf(name)}`);
    await eventually(async () => {
      const served = await Promise.all([0, 1].map(async (k) => (await fetch(`http://127.0.0.1:${platform.base + REPLICA_PORT_STEP * k + 700}/admin/supergraph`)).json()));
      const [first, second] = served as Array<{ hash: string; subgraphs: Array<{ name: string; instances: string[] }> }>;
      expect(second.hash).toBe(first.hash);
      for (const { subgraphs } of [first, second]) {
        expect(subgraphs.map(({ name, instances }) => [name, [...instances].sort()])).toEqual(['catalog', 'orders', 'payments', 'sagas', 'users'].map((name) => [name, instancesOf(name)]));
      }
    }, 30_000, 200);
  });

  it('answers a query across four subgraphs the same through both gateways', async () => {
    const [first, second] = await Promise.all(gateways.map((url) => postGraphQL(url, ACROSS_SUBGRAPHS, { headers: buyer })));
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data).toMatchObject({ user: { name: 'Ada Lovelace' } });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
  });

  it('reads through each gateway the sagas placed through the other, each to its end', async () => {
    // Two each way: the orchestrators and participants of both replicas share the work through the hub.
    const placements = [0, 1, 0, 1];
    const ids: string[] = [];
    for (const from of placements) {
      const placed = await postGraphQL<{ placeOrder: { sagaId: string } }>(gateways[from], PLACE_ORDER, { variables: { items: [{ productId: 'p1', quantity: 1 }] }, headers: buyer });
      expect(placed.body.errors).toBeUndefined();
      const id = placed.body.data!.placeOrder.sagaId;
      // Acknowledged means stored: the other replica finds it at once.
      const read = await postGraphQL<{ saga: { id: string } | null }>(gateways[1 - from], SAGA, { variables: { id }, headers: buyer });
      expect(read.body.errors).toBeUndefined();
      expect(read.body.data?.saga?.id).toBe(id);
      ids.push(id);
    }
    expect(new Set(ids).size).toBe(placements.length);
    await eventually(async () => {
      const finished = await Promise.all(ids.map(async (id, i) => (await postGraphQL<{ saga: { state: string; steps: Array<{ name: string; state: string }> } }>(gateways[1 - placements[i]], SAGA, { variables: { id }, headers: buyer })).body.data?.saga));
      expect(finished).toEqual(ids.map(() => expect.objectContaining({ state: 'COMPLETED', steps: [{ name: 'reserveStock', state: 'SUCCEEDED' }, { name: 'chargePayment', state: 'SUCCEEDED' }, { name: 'createOrder', state: 'SUCCEEDED' }] })));
    }, 60_000, 200);
  });

  it('stops every replica of every service, and frees every port', async () => {
    const children = launcherChildren(platform.pid).map((child) => child.pid);
    expect(children).toHaveLength(SERVICES.length * 2);
    expect(await platform.stop()).toBe(0);
    // The launcher exits only once each child has: none may be left running.
    expect(children.filter(alive)).toEqual([]);
    const ports = [0, 1].flatMap((k) => [...OFFSETS, 400, 600].map((offset) => platform.base + REPLICA_PORT_STEP * k + offset));
    const listening = await Promise.all(ports.map(accepts));
    expect(ports.filter((_, i) => listening[i])).toEqual([]);
  });
});

describe('TRELLIS_REPLICAS past the last port', () => {
  it('is refused before anything starts, naming the variable, the port and how many fit', async () => {
    const root = path.resolve(__dirname, '..', '..');
    const child = spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(root, 'scripts/start.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TRELLIS_PORT_BASE: '4000', TRELLIS_REPLICAS: '8', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toBe('trellis: Invalid configuration: TRELLIS_REPLICAS=8: replica 8 would listen on port 74700 (the first replica\'s highest port 4700 + 10000·7), past 65535; at most 7 with these ports (TRELLIS_PORT_BASE, ADMIN_PORT)\n');
  });
});
