/**
 * The console's sagas come from the sagas subgraph (`sagaOverview`, operators only), asked through
 * the gateway's client for it, on a real Redis: in flight and finished, with their steps, and no
 * key scan anywhere (both the gateway's and the subgraph's state store refuse one). A caller
 * without the operator scope is refused with FORBIDDEN, through the gateway and directly; a sagas
 * subgraph that is down is one line in the console, answered at once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StateStore, Subgraph, SubgraphFactory } from '@trellis/kit';
import { RedisStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit';
import { DEFAULT_DUE_SHARDS, sagaKey } from '@trellis/kit/internal/saga';
import { SagaParking } from '@trellis/kit/internal/saga/parking';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import type { ConsoleSnapshot } from '../../../gateway/console';
import { sagasSubgraph, typeDefs as sagasSdl, OPERATOR_SCOPE } from '../../../subgraphs/sagas';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { eventually, postGraphQL } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

type Sagas = ConsoleSnapshot['sagas'];
type Overview = Extract<Sagas, { inFlight: unknown }>;

/** A state store whose key scans fail the call and are counted. */
function noScan(store: StateStore, scans: { count: number }): StateStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'keys') {
        return async () => {
          scans.count++;
          throw new Error('the console path scanned keys');
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('the console lists sagas through the sagas subgraph', () => {
  const scans = { count: 0 };
  const prefix = `${uniquePrefix('console-sagas')}:`;
  const env = { REDIS_URL: realBackends.redisUrl, REDIS_KEY_PREFIX: prefix };
  let identity: TestIdentity;
  let sagas: Subgraph & { stop(): Promise<void> };
  let gateway: InProcessGateway;
  let gatewayState: RedisStateStore;
  /** The sagas subgraph's event bus, to reply as a participant would. */
  let events: Parameters<SubgraphFactory>[0]['backends']['events'];
  const buyer = () => identity.bearer('u1');
  const operator = () => identity.bearer('ops', [OPERATOR_SCOPE]);

  const snapshot = async (): Promise<{ ms: number; sagas: Sagas }> => {
    const started = performance.now();
    const response = await fetch(`${gateway.server.admin.url}/admin/console.json`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as ConsoleSnapshot;
    return { ms: performance.now() - started, sagas: body.sagas };
  };
  const place = async (): Promise<string> => {
    const placed = await postGraphQL<{ placeOrder: { sagaId: string } }>(sagas.url, 'mutation { placeOrder(input: { items: [{ productId: "p1", quantity: 1 }], paymentMethod: "card-ok" }) { sagaId } }', {
      headers: await buyer(),
    });
    expect(placed.body.errors).toBeUndefined();
    return placed.body.data!.placeOrder.sagaId;
  };

  beforeAll(async () => {
    identity = await startTestIdentity();
    const catalog = async (ids: string[]) => new Map(ids.map((id) => [id, { price: 10, inStock: 100 }]));
    // The subgraph as its main.ts builds it, on a state store that refuses scans.
    const build: SubgraphFactory = (deps) => {
      events = deps.backends.events;
      return sagasSubgraph({ catalog })({ ...deps, backends: { ...deps.backends, state: noScan(deps.backends.state, scans) } });
    };
    sagas = await startSubgraph(build, { ...identity.env, ...env });
    const composed = composeSupergraph([{ name: 'sagas', sdl: sagasSdl, url: sagas.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-console-sagas-')), 'supergraph.graphql');
    writeFileSync(file, composed.supergraphSdl);
    gatewayState = new RedisStateStore({ url: realBackends.redisUrl, keyPrefix: prefix });
    gateway = await startGateway(
      { ...identity.env, SUPERGRAPH_PATH: file, CONSOLE_OPERATOR_TOKEN: await identity.token('console', [OPERATOR_SCOPE]), BREAKER_VOLUME_THRESHOLD: '1' },
      { state: noScan(gatewayState, scans) },
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await gatewayState?.close();
    await sagas?.stop();
    await identity?.stop();
  });

  it('shows the sagas in flight and the finished, with their steps, and scans no key', async () => {
    const [declined, waiting, other] = [await place(), await place(), await place()];
    // catalog refuses the first saga's reservation: nothing applied, so it ends COMPENSATED at once.
    await events.publish('saga.replies', { key: declined, value: JSON.stringify({ sagaId: declined, stepIndex: 0, action: 'command', outcome: 'failure', error: 'out of stock' }) });
    const overview = (await eventually(async () => {
      const { sagas: view } = await snapshot();
      expect(view).toMatchObject({ finished: [{ id: declined }] });
      return view;
    }, 10_000)) as Overview;
    expect(overview.finished[0]).toMatchObject({ definition: 'placeOrder', state: 'COMPENSATED' });
    expect(overview.finished[0].steps[0]).toEqual({ name: 'reserveStock', state: 'FAILED', attempts: 1, error: 'out of stock' });
    expect(overview.finished[0].steps[1]).toEqual({ name: 'chargePayment', state: 'PENDING', attempts: 0 });
    expect(overview.inFlight.map((saga) => saga.id)).toEqual([waiting, other]);
    expect(overview.inFlight[0].steps[0]).toEqual({ name: 'reserveStock', state: 'RUNNING', attempts: 1 });
    expect(overview).toMatchObject({ inFlightTotal: 2, finishedKept: 1 });
    expect(scans.count).toBe(0);
  });

  it('lists a parked saga apart, with why, and no longer in flight', async () => {
    const id = await place();
    // What an orchestrator that lacks this saga's definition version does with it.
    const parking = new SagaParking({ state: gatewayState, logger: createLogger({ service: 'test', level: 'silent' }), shards: DEFAULT_DUE_SHARDS, now: Date.now });
    expect(await parking.park(id, (await gatewayState.getVersioned(sagaKey(id)))!, 'unknown-version')).toBe(true);
    const overview = (await eventually(async () => {
      const { sagas: view } = await snapshot();
      expect(view).toMatchObject({ parkedTotal: 1, parked: [{ sagaId: id, reason: 'unknown-version', definition: 'placeOrder', heldReplies: 0 }] });
      return view;
    }, 10_000)) as Overview;
    expect(overview.inFlight.map((saga) => saga.id)).not.toContain(id);
    expect(typeof overview.parked[0].parkedAt).toBe('number');
    expect(scans.count).toBe(0);
  });

  it('answers sagaOverview to the operator scope only, through the gateway and directly', async () => {
    const query = '{ sagaOverview(inFlight: 1, finished: 1) { inFlightTotal finished { id } } }';
    const asOperator = await postGraphQL(gateway.url, query, { headers: await operator() });
    expect(asOperator.body.errors).toBeUndefined();
    expect(asOperator.body.data).toEqual({ sagaOverview: { inFlightTotal: expect.any(Number), finished: [{ id: expect.any(String) }] } });
    for (const url of [gateway.url, sagas.url]) {
      for (const headers of [await buyer(), undefined]) {
        const refused = await postGraphQL(url, query, { headers });
        expect(refused.body.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
        expect(JSON.stringify(refused.body.data ?? null)).not.toContain('inFlightTotal":');
      }
    }
    const tooMany = await postGraphQL(sagas.url, '{ sagaOverview(inFlight: 101) { inFlightTotal } }', { headers: await operator() });
    expect(tooMany.body.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(scans.count).toBe(0);
  });

  it('shows a sagas subgraph that is down as one line, at once, and the rest of the console', async () => {
    await sagas.stop();
    const down = await eventually(async () => {
      const view = await snapshot();
      expect(view.sagas).toEqual({ error: expect.stringMatching(/^sagas unavailable: /) });
      return view;
    }, 10_000);
    // Answered without waiting for the subgraph's deadline (a refused connection, then an open breaker).
    expect(down.ms).toBeLessThan(1000);
    const response = await fetch(`${gateway.server.admin.url}/admin/console.json`);
    expect(await response.json()).toMatchObject({ supergraph: { source: 'file' }, subgraphs: [{ name: 'sagas', composed: true }] });
  });
});
