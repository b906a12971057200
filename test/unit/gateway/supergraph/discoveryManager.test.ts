import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { DiscoverySupergraphManager, logicalSubgraphUrl } from '../../../../gateway/supergraph/discoveryManager';
import { composeOnThisThread } from '../../../../gateway/supergraph/composer';
import * as composeModule from '../../../../gateway/supergraph/compose';
import type { SupergraphStatus } from '../../../../gateway/supergraph/types';
import { InMemoryDiscovery, parseAllowList, SCHEMA_REVISION_META, type ServiceRegistration, type SubgraphAllowList } from '@trellis/kit/internal/discovery';
import { recordingLogger } from '../../../support/recordingLogger';

const START = new Date('2026-03-01T12:00:00.000Z');
const sdlOwning = (field: string, type = 'String') =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { ${field}: ${type} }`;
const registration = (name: string, id: string, host = `${id}.test`): ServiceRegistration => ({
  id,
  name,
  url: `http://${host}/graphql`,
  healthUrl: `http://${host}/health`,
});

describe('DiscoverySupergraphManager', () => {
  let discovery: InMemoryDiscovery;
  let sdlAt: Map<string, string>;
  let fetchSdl: jest.Mock<Promise<string>, [string, number]>;
  const managers: DiscoverySupergraphManager[] = [];

  beforeEach(() => {
    // The debounce is a timer; time moves only when a test moves it.
    jest.useFakeTimers({ now: START, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    discovery = new InMemoryDiscovery();
    sdlAt = new Map();
    fetchSdl = jest.fn(async (url: string, _timeoutMs: number) => {
      const sdl = sdlAt.get(url);
      if (sdl === undefined) throw new Error(`no SDL at ${url}`);
      return sdl;
    });
  });
  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.stop();
    await discovery.close();
    jest.useRealTimers();
  });

  function manager(options: { debounceMs?: number; sdlTimeoutMs?: number; allow?: SubgraphAllowList } = {}) {
    const { logger, lines } = recordingLogger();
    const created = new DiscoverySupergraphManager({ discovery, logger, fetchSdl, composer: composeOnThisThread, ...options });
    managers.push(created);
    return { manager: created, lines };
  }

  async function register(name: string, id: string, sdl: string, host?: string) {
    const reg = registration(name, id, host);
    sdlAt.set(reg.url, sdl);
    await discovery.register(reg);
  }

  /** Runs the debounce out and waits for the composition it starts to be served or to fail. */
  async function settle(target: DiscoverySupergraphManager, event: 'served' | 'failed' = 'served', ms = 25): Promise<SupergraphStatus> {
    const outcome = once(target, event);
    await jest.advanceTimersByTimeAsync(ms);
    const [status] = (await outcome) as [SupergraphStatus];
    return status;
  }

  it('serves the first supergraph composed from what discovery reports, and says so in its status', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    await register('catalog', 'catalog-1', sdlOwning('products'));
    const { manager: m, lines } = manager();
    expect(m.sdl()).toBeNull();
    expect(m.status()).toMatchObject({ hash: null, version: 0, composedAt: null, source: 'discovery', lastError: null, compositionFailures: 0 });
    await m.start();
    const status = await settle(m);
    const sdl = await m.ready();
    expect(sdl).toContain('me: String');
    expect(sdl).toContain('products: String');
    expect(m.sdl()).toBe(sdl);
    expect(status).toEqual({
      hash: createHash('sha256').update(sdl).digest('hex'),
      version: 1,
      composedAt: START.toISOString().replace('00.000Z', '00.025Z'),
      source: 'discovery',
      subgraphs: [
        { name: 'catalog', url: 'http://catalog.subgraph.invalid/graphql', instances: ['catalog-1'] },
        { name: 'users', url: 'http://users.subgraph.invalid/graphql', instances: ['users-1'] },
      ],
      refused: [],
      untrusted: [],
      lastError: null,
      compositionFailures: 0,
    });
    expect(m.status()).toEqual(status);
    expect(fetchSdl.mock.calls.sort()).toEqual([
      ['http://catalog-1.test/graphql', 3000],
      ['http://users-1.test/graphql', 3000],
    ]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', msg: 'supergraph served', version: 1, subgraphs: ['catalog', 'users'] }));
  });

  it('hands the gateway the first supergraph through initialize, then every new one through update', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m } = manager();
    await m.start();
    const update = jest.fn();
    const initialized = m.initialize({ update } as never);
    await settle(m);
    const { supergraphSdl, cleanup } = await initialized;
    expect(supergraphSdl).toBe(m.sdl());
    // The gateway ignores an update with the SDL it already has, so the first one is offered both ways.
    expect(update.mock.calls).toEqual([[supergraphSdl]]);

    await register('catalog', 'catalog-1', sdlOwning('products'));
    const status = await settle(m);
    expect(status.version).toBe(2);
    expect(update).toHaveBeenCalledTimes(2);
    expect(update.mock.calls[1][0]).toContain('products: String');
    expect(update.mock.calls[1][0]).toBe(m.sdl());

    await cleanup!();
    await register('orders', 'orders-1', sdlOwning('orders'));
    await jest.advanceTimersByTimeAsync(1000);
    expect(fetchSdl).not.toHaveBeenCalledWith('http://orders-1.test/graphql', expect.anything());
  });

  it('passes its SDL timeout to each fetch', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m } = manager({ sdlTimeoutMs: 750 });
    await m.start();
    await settle(m);
    expect(fetchSdl).toHaveBeenCalledWith('http://users-1.test/graphql', 750);
  });

  it('waits until changes stop for the debounce window, then composes them together', async () => {
    const { manager: m } = manager({ debounceMs: 100 });
    await m.start();
    await register('users', 'users-1', sdlOwning('me'));
    await jest.advanceTimersByTimeAsync(60);
    await register('catalog', 'catalog-1', sdlOwning('products'));
    await jest.advanceTimersByTimeAsync(99); // 99 ms after the last change
    expect(fetchSdl).not.toHaveBeenCalled();
    const status = await settle(m, 'served', 1);
    expect(status.version).toBe(1);
    expect(status.subgraphs.map((s) => s.name)).toEqual(['catalog', 'users']);
    expect(fetchSdl).toHaveBeenCalledTimes(2);
  });

  it('debounces by 25 ms by default', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m } = manager();
    await m.start();
    await jest.advanceTimersByTimeAsync(24);
    expect(fetchSdl).not.toHaveBeenCalled();
    await settle(m, 'served', 1);
  });

  it('drops a subgraph whose last instance left, and fetches the SDL of an instance only once while it lives', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    await register('catalog', 'catalog-1', sdlOwning('products'));
    const { manager: m } = manager();
    await m.start();
    await settle(m);
    await discovery.deregister('catalog-1');
    const status = await settle(m);
    expect(status.version).toBe(2);
    expect(status.subgraphs.map((s) => s.name)).toEqual(['users']);
    expect(m.sdl()).not.toContain('products');
    expect(fetchSdl.mock.calls.filter(([url]) => url.includes('users-1'))).toHaveLength(1);

    // Back with the same id: its SDL is fetched again, since it may have changed while it was gone.
    sdlAt.set('http://catalog-1.test/graphql', sdlOwning('catalogue'));
    await discovery.register(registration('catalog', 'catalog-1'));
    expect((await settle(m)).version).toBe(3);
    expect(m.sdl()).toContain('catalogue: String');
  });

  it('serves nothing new when a change leaves the supergraph as it was', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m } = manager();
    await m.start();
    await settle(m);
    const served = jest.fn();
    m.on('served', served);
    await register('users', 'users-2', sdlOwning('me'));
    await jest.advanceTimersByTimeAsync(25);
    // Compositions run one after another, so this one being served as version 2 proves the replica's round served nothing.
    await register('catalog', 'catalog-1', sdlOwning('products'));
    const status = await settle(m);
    expect(status.version).toBe(2);
    expect(served).toHaveBeenCalledTimes(1);
    expect(fetchSdl.mock.calls.filter(([url]) => url.includes('users-2'))).toEqual([]);
  });

  describe('instances come and go; the supergraph changes only with the schemas', () => {
    const health = new Map<string, boolean>();
    let composed: jest.SpyInstance;
    beforeEach(() => {
      health.clear();
      discovery = new InMemoryDiscovery({ healthIntervalMs: 3_600_000, checkHealth: async (url) => health.get(url) ?? true });
      composed = jest.spyOn(composeModule, 'composeIncrementally');
    });
    afterEach(() => composed.mockRestore());
    const flap = async (id: string, healthy: boolean) => {
      health.set(`http://${id}.test/health`, healthy);
      await discovery.checkAll();
      await jest.advanceTimersByTimeAsync(25);
    };
    const revised = (name: string, id: string, revision: string) => ({ ...registration(name, id), meta: { [SCHEMA_REVISION_META]: revision } });

    it('names each subgraph by a logical URL, never by an instance, so a flap or a new replica swaps nothing and composes nothing', async () => {
      await discovery.register(revised('users', 'users-1', 'r1'));
      sdlAt.set('http://users-1.test/graphql', sdlOwning('me'));
      const { manager: m } = manager();
      await m.start();
      await settle(m);
      expect(m.sdl()).toContain(`url: "${logicalSubgraphUrl('users')}"`);
      expect(m.sdl()).not.toContain('users-1.test');
      const served = jest.fn();
      m.on('served', served);
      await flap('users-1', false);
      await flap('users-1', true);
      sdlAt.set('http://users-2.test/graphql', sdlOwning('me'));
      await discovery.register(revised('users', 'users-2', 'r1'));
      await jest.advanceTimersByTimeAsync(25);
      await discovery.deregister('users-1');
      await jest.advanceTimersByTimeAsync(25);
      expect(served).not.toHaveBeenCalled();
      expect(composed).toHaveBeenCalledTimes(1);
      expect(m.status().version).toBe(1);
      // users-2's SDL was read once users-1 left (one SDL per name is enough); users-1's only once.
      expect(fetchSdl.mock.calls.map(([url]) => url)).toEqual(['http://users-1.test/graphql', 'http://users-2.test/graphql']);
    });

    it('fetches the SDL again when an instance registers a new schema revision on the same id, and recomposes', async () => {
      await discovery.register(revised('catalog', 'catalog-1', 'r1'));
      sdlAt.set('http://catalog-1.test/graphql', sdlOwning('products'));
      const { manager: m } = manager();
      await m.start();
      await settle(m);
      // Redeployed on the same host and port with a new schema: the same id, a new revision.
      sdlAt.set('http://catalog-1.test/graphql', sdlOwning('catalogue'));
      await discovery.register(revised('catalog', 'catalog-1', 'r2'));
      expect((await settle(m)).version).toBe(2);
      expect(m.sdl()).toContain('catalogue: String');
      // A flap of an instance with a revision fetches nothing.
      await flap('catalog-1', false);
      await flap('catalog-1', true);
      expect(fetchSdl).toHaveBeenCalledTimes(2);
    });

    it('fetches the SDL again when an instance without a revision comes back healthy: it may have been redeployed', async () => {
      await register('catalog', 'catalog-1', sdlOwning('products'));
      const { manager: m } = manager();
      await m.start();
      await settle(m);
      await flap('catalog-1', false);
      sdlAt.set('http://catalog-1.test/graphql', sdlOwning('catalogue'));
      await flap('catalog-1', true);
      expect(m.status().version).toBe(2);
      expect(m.sdl()).toContain('catalogue: String');
      // The same schema after the next flap: fetched again, composed never.
      await flap('catalog-1', false);
      await flap('catalog-1', true);
      expect(fetchSdl).toHaveBeenCalledTimes(3);
      expect(composed).toHaveBeenCalledTimes(2);
      expect(m.status().version).toBe(2);
    });
  });

  it('reads the SDL from the next instance when one fails, logging the failure', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    sdlAt.delete('http://users-1.test/graphql');
    await register('users', 'users-2', sdlOwning('me'));
    const { manager: m, lines } = manager();
    await m.start();
    const status = await settle(m);
    expect(status.subgraphs).toEqual([{ name: 'users', url: 'http://users.subgraph.invalid/graphql', instances: ['users-1', 'users-2'] }]);
    expect(fetchSdl.mock.calls.map(([url]) => url)).toEqual(['http://users-1.test/graphql', 'http://users-2.test/graphql']);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'SDL fetch failed', subgraph: 'users', instance: 'users-1', err: 'no SDL at http://users-1.test/graphql' }),
    );
  });

  it('falls back to an unhealthy instance for the SDL of a subgraph with no healthy one', async () => {
    const health = new Map<string, boolean>();
    discovery = new InMemoryDiscovery({ healthIntervalMs: 3_600_000, checkHealth: async (url) => health.get(url) ?? true });
    health.set('http://users-1.test/health', false);
    await register('users', 'users-1', sdlOwning('me'));
    await register('catalog', 'catalog-1', sdlOwning('products'));
    const { manager: m } = manager();
    await m.start();
    const status = await settle(m);
    expect(status.subgraphs.map((s) => s.name)).toEqual(['catalog', 'users']);
    expect(m.instances.instancesOf('users')).toEqual([]);
  });

  it('leaves out a subgraph whose SDL no instance will give', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    await register('catalog', 'catalog-1', sdlOwning('products'));
    sdlAt.delete('http://catalog-1.test/graphql');
    const { manager: m } = manager();
    await m.start();
    const status = await settle(m);
    expect(status.subgraphs.map((s) => s.name)).toEqual(['users']);
    // Asked once: only unhealthy instances are tried after the healthy ones.
    expect(fetchSdl.mock.calls.filter(([url]) => url.includes('catalog-1'))).toHaveLength(1);
  });

  it('refuses a subgraph that does not compose by name, records the error, and keeps serving the last good supergraph', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m, lines } = manager();
    await m.start();
    await settle(m);
    const good = m.sdl();
    await register('rogue', 'rogue-1', sdlOwning('me', 'Int'));
    const status = await settle(m, 'failed');
    expect(m.sdl()).toBe(good);
    expect(status.version).toBe(1);
    expect(status.refused).toEqual([{ name: 'rogue', errors: expect.arrayContaining([expect.stringContaining('Query.me')]) }]);
    expect(status.compositionFailures).toBe(1);
    expect(status.lastError).toEqual({ at: expect.any(String), message: expect.stringMatching(/^rogue: .*Query\.me/) });
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', subgraph: 'rogue', msg: 'subgraph rogue refused: it does not compose with the rest' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'supergraph composition failed' }));

    // The rogue leaves: nothing is refused any more.
    await discovery.deregister('rogue-1');
    await register('catalog', 'catalog-1', sdlOwning('products'));
    const next = await settle(m);
    expect(next.refused).toEqual([]);
    expect(next.compositionFailures).toBe(1);
  });

  it('keeps the last good supergraph when discovery reports no subgraph at all', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m, lines } = manager();
    await m.start();
    await settle(m);
    const good = m.sdl();
    await discovery.deregister('users-1');
    const status = await settle(m, 'failed');
    expect(status.lastError?.message).toBe('no subgraph set composes; keeping the last good supergraph');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'supergraph composition failed', err: 'no subgraph set composes; keeping the last good supergraph' }),
    );
    expect(status.compositionFailures).toBe(1);
    expect(m.sdl()).toBe(good);
    expect(status.version).toBe(1);
  });

  it('reports a first set that does not compose, and serves once it does', async () => {
    await register('users', 'users-1', 'type Query {');
    const { manager: m } = manager();
    await m.start();
    const failures: SupergraphStatus[] = [];
    m.on('failed', (status: SupergraphStatus) => failures.push(status));
    sdlAt.set('http://users-2.test/graphql', sdlOwning('me'));
    await jest.advanceTimersByTimeAsync(25);
    await discovery.deregister('users-1');
    await discovery.register(registration('users', 'users-2'));
    await settle(m);
    expect(failures.map((f) => f.lastError?.message)).toEqual([expect.stringMatching(/^users: SDL does not parse/), 'no subgraph set composes; keeping the last good supergraph']);
    expect(m.status().compositionFailures).toBe(2);
    expect(m.status().lastError?.at).toBe(new Date(START.getTime() + 25).toISOString());
  });

  it('does not count an empty discovery before the first supergraph as a failure', async () => {
    const { manager: m } = manager();
    await m.start();
    const failed = jest.fn();
    m.on('failed', failed);
    await jest.advanceTimersByTimeAsync(25);
    await register('users', 'users-1', sdlOwning('me'));
    const status = await settle(m);
    expect(failed).not.toHaveBeenCalled();
    expect(status.compositionFailures).toBe(0);
  });

  it('keeps the last good supergraph when the gateway refuses a new one', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m } = manager();
    await m.start();
    let refuse = false;
    const update = jest.fn(() => {
      if (refuse) throw new Error('schema rejected');
    });
    const initialized = m.initialize({ update } as never);
    await settle(m);
    const good = (await initialized).supergraphSdl;
    refuse = true;
    await register('catalog', 'catalog-1', sdlOwning('products'));
    const status = await settle(m, 'failed');
    expect(status.lastError?.message).toBe('gateway refused the supergraph: schema rejected');
    expect(status.version).toBe(1);
    expect(m.sdl()).toBe(good);
  });

  describe('allow-list (SUBGRAPH_ALLOW)', () => {
    const allow = () => parseAllowList('users,catalog@catalog.internal');

    it('refuses an instance by name and by host: never composed, never asked for its SDL, never routed to', async () => {
      await register('users', 'users-1', sdlOwning('me'));
      await register('catalog', 'catalog-1', sdlOwning('products'), 'catalog.internal');
      await register('evil', 'evil-1', sdlOwning('steal'));
      await register('catalog', 'catalog-rogue', sdlOwning('products'), 'attacker.example');
      const { manager: m, lines } = manager({ allow: allow() });
      const untrusted = jest.fn();
      m.on('untrusted', untrusted);
      await m.start();
      const status = await settle(m);
      expect(status.untrusted).toEqual([
        { name: 'catalog', instance: 'catalog-rogue', url: 'http://attacker.example/graphql', reason: 'host attacker.example is not allowed for subgraph "catalog" in SUBGRAPH_ALLOW' },
        { name: 'evil', instance: 'evil-1', url: 'http://evil-1.test/graphql', reason: 'subgraph name "evil" is not in SUBGRAPH_ALLOW' },
      ]);
      expect(status.subgraphs).toEqual([
        { name: 'catalog', url: 'http://catalog.subgraph.invalid/graphql', instances: ['catalog-1'] },
        { name: 'users', url: 'http://users.subgraph.invalid/graphql', instances: ['users-1'] },
      ]);
      expect(m.sdl()).not.toContain('steal');
      expect(fetchSdl.mock.calls.map(([url]) => url).sort()).toEqual(['http://catalog.internal/graphql', 'http://users-1.test/graphql']);
      expect(m.instances.all().map((i) => i.id).sort()).toEqual(['catalog-1', 'users-1']);
      expect(untrusted).toHaveBeenCalledWith(expect.objectContaining({ untrusted: status.untrusted }));
      const warnings = lines.filter((line) => line.level === 'warn' && String(line.msg).includes('refused'));
      expect(warnings).toEqual([
        expect.objectContaining({ subgraph: 'catalog', instance: 'catalog-rogue', url: 'http://attacker.example/graphql' }),
        expect.objectContaining({ subgraph: 'evil', instance: 'evil-1', msg: 'subgraph evil refused: subgraph name "evil" is not in SUBGRAPH_ALLOW' }),
      ]);
    });

    it('logs each refused instance once, again only when it comes back on another URL, and forgets it when it leaves', async () => {
      await register('users', 'users-1', sdlOwning('me'));
      await register('evil', 'evil-1', sdlOwning('steal'));
      const { manager: m, lines } = manager({ allow: allow() });
      const untrusted = jest.fn();
      m.on('untrusted', untrusted);
      await m.start();
      await settle(m);
      const refusals = () => lines.filter((line) => line.level === 'warn' && line.subgraph === 'evil').map((line) => line.url);
      await register('catalog', 'catalog-1', sdlOwning('products'), 'catalog.internal');
      await settle(m);
      expect(refusals()).toEqual(['http://evil-1.test/graphql']);
      expect(untrusted).toHaveBeenCalledTimes(2);

      // The same instance moving to another URL, and another instance on a known URL, are new refusals.
      await register('evil', 'evil-1', sdlOwning('steal'), 'elsewhere.test');
      expect(refusals()).toEqual(['http://evil-1.test/graphql', 'http://elsewhere.test/graphql']);
      await register('evil', 'evil-2', sdlOwning('steal'), 'elsewhere.test');
      expect(refusals()).toEqual(['http://evil-1.test/graphql', 'http://elsewhere.test/graphql', 'http://elsewhere.test/graphql']);
      await discovery.deregister('evil-2');

      await discovery.deregister('evil-1');
      expect(m.status().untrusted).toEqual([]);
      expect(untrusted).toHaveBeenCalledTimes(5);
    });

    it('without an allow-list, composes whatever discovery reports', async () => {
      await register('anything', 'anything-1', sdlOwning('any'));
      const { manager: m } = manager();
      const untrusted = jest.fn();
      m.on('untrusted', untrusted);
      await m.start();
      const status = await settle(m);
      expect(status.subgraphs.map((s) => s.name)).toEqual(['anything']);
      expect(status.untrusted).toEqual([]);
      expect(untrusted).not.toHaveBeenCalled();
    });
  });

  it('names every refused subgraph and each of its errors in the last error', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    await register('catalog', 'catalog-1', sdlOwning('products'));
    const { manager: m } = manager();
    await m.start();
    await settle(m);
    const clash = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { me: Int products: Int }`;
    await register('rogue', 'rogue-1', clash);
    await register('zealot', 'zealot-1', sdlOwning('me', 'Float'));
    const status = await settle(m, 'failed');
    const [rogue, zealot] = status.refused;
    expect(rogue.errors.length).toBeGreaterThan(1);
    expect(status.lastError?.message).toBe(`rogue: ${rogue.errors.join('; ')} | zealot: ${zealot.errors.join('; ')}`);
  });

  it('records a failure of its own listeners as a composition failure instead of crashing', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m } = manager();
    m.once('served', () => {
      throw new Error('listener broke');
    });
    await m.start();
    const status = await settle(m, 'failed');
    expect(status.lastError?.message).toBe('listener broke');
    expect(status.version).toBe(1);
  });

  it('runs no queued composition once stopped', async () => {
    const held: Array<() => void> = [];
    // The first fetch waits for the test; any later one would answer at once (and be counted).
    fetchSdl.mockImplementation((url: string) =>
      held.length === 0 ? new Promise((resolve) => held.push(() => resolve(sdlAt.get(url)!))) : Promise.resolve(sdlAt.get(url)!),
    );
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m } = manager();
    await m.start();
    await jest.advanceTimersByTimeAsync(25); // first round waits on the users SDL
    expect(held).toHaveLength(1);
    await register('catalog', 'catalog-1', sdlOwning('products'));
    await jest.advanceTimersByTimeAsync(25); // second round queued behind the first
    await m.stop();
    held[0]();
    // The manager's chain of rounds; it settles once the queued one had its chance to run.
    await (m as unknown as { running: Promise<void> }).running;
    expect(fetchSdl).toHaveBeenCalledTimes(1);
  });

  it('stops following discovery: a pending change is dropped and later ones are ignored', async () => {
    await register('users', 'users-1', sdlOwning('me'));
    const { manager: m } = manager();
    await m.start();
    await m.stop();
    await register('catalog', 'catalog-1', sdlOwning('products'));
    await jest.advanceTimersByTimeAsync(1000);
    expect(fetchSdl).not.toHaveBeenCalled();
    expect(m.instances.names()).toEqual(['users']);
  });
});
