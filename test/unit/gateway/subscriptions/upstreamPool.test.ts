/**
 * The gateway's subscriptions to subgraphs, against a real graphql-ws server: one socket per
 * subgraph and identity, one upstream subscribe per identical operation, refcounted, closed when
 * idle (time driven by a manual clock), reconnected to another instance when one goes away.
 */
import type { ExecutionResult } from 'graphql';
import type { ServiceInstance } from '../../../../shared/discovery';
import { UpstreamPool, type UpstreamRequest } from '../../../../gateway/subscriptions/upstreamPool';
import { ManualClock } from '../../../support/manualClock';
import { UpstreamServer } from '../../../support/upstreamServer';

const IDLE_MS = 30_000;
const QUERY = 'subscription ($id: ID!) { status(id: $id) }';

function headers(token: string, correlationId: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'x-correlation-id': correlationId };
}

/** One client's subscription: its events as they come, and a way to leave. */
class Client {
  private readonly abort = new AbortController();
  readonly events: AsyncGenerator<ExecutionResult>;

  constructor(pool: UpstreamPool, request: Omit<UpstreamRequest, 'subgraph' | 'query' | 'signal'>) {
    this.events = pool.subscribe({ subgraph: 'status', query: QUERY, signal: this.abort.signal, ...request });
  }

  async next(): Promise<ExecutionResult | undefined> {
    const { done, value } = await this.events.next();
    return done ? undefined : value;
  }

  async status(): Promise<unknown> {
    return (await this.next())?.data?.status;
  }

  leave(): void {
    this.abort.abort();
  }
}

describe('UpstreamPool', () => {
  let servers: UpstreamServer[];
  let instances: ServiceInstance[];
  let clock: ManualClock;
  let pool: UpstreamPool;

  beforeEach(async () => {
    servers = [await new UpstreamServer('a').start()];
    instances = [servers[0].instance];
    clock = new ManualClock();
    pool = new UpstreamPool({ instances: () => instances, clock, idleMs: IDLE_MS, retryAttempts: 2, retryWait: async () => undefined });
  });

  afterEach(async () => {
    await pool.stop();
    for (const server of servers) await server.kill().catch(() => undefined);
  });

  it('carries every subscription of one identity on one socket, whatever their correlation ids', async () => {
    const clients = [1, 2, 3, 4, 5].map((n) => new Client(pool, { variables: { id: `saga-${n}` }, headers: headers('alice', `corr-${n}`) }));
    expect(await Promise.all(clients.map((client) => client.status()))).toEqual([1, 2, 3, 4, 5].map((n) => `a:saga-${n}:snapshot`));
    expect(servers[0].stats.sockets).toBe(1);
    expect(servers[0].stats.inits).toHaveLength(1);
    expect(servers[0].stats.subscribes).toBe(5);
    expect(pool.connectionCount).toBe(1);
  });

  it('never shares a socket between two tokens: each connection_init carries its own', async () => {
    const alice = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'corr-1') });
    const bob = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('bob', 'corr-2') });
    expect(await alice.status()).toBe('a:saga-1:snapshot');
    expect(await bob.status()).toBe('a:saga-1:snapshot');
    expect(servers[0].stats.sockets).toBe(2);
    expect(servers[0].stats.subscribes).toBe(2);
    expect(servers[0].stats.inits.map((init) => init.authorization).sort()).toEqual(['Bearer alice', 'Bearer bob']);
  });

  it('separates identities by any header the rules send, not only the token', async () => {
    const acme = new Client(pool, { variables: { id: 'saga-1' }, headers: { ...headers('alice', 'c1'), 'x-tenant': 'acme' } });
    const globex = new Client(pool, { variables: { id: 'saga-1' }, headers: { ...headers('alice', 'c2'), 'x-tenant': 'globex' } });
    await acme.status();
    await globex.status();
    expect(servers[0].stats.sockets).toBe(2);
  });

  it('sends identical subscriptions upstream once and gives every client each event, a late one the latest first', async () => {
    const first = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'corr-1') });
    expect(await first.status()).toBe('a:saga-1:snapshot');
    servers[0].push('saga-1', 'PAYMENT_PENDING');
    expect(await first.status()).toBe('PAYMENT_PENDING');

    const late = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'corr-2') });
    expect(await late.status()).toBe('PAYMENT_PENDING');
    servers[0].push('saga-1', 'COMPLETED');
    expect(await first.status()).toBe('COMPLETED');
    expect(await late.status()).toBe('COMPLETED');
    expect(servers[0].stats.subscribes).toBe(1);
  });

  it('gives each client its own copy of an event, so one client changing it changes nothing for another', async () => {
    const first = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c1') });
    const second = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c2') });
    const [a, b] = await Promise.all([first.next(), second.next()]);
    (a!.data as Record<string, unknown>).status = 'changed';
    expect(b!.data).toEqual({ status: 'a:saga-1:snapshot' });
  });

  it('keeps the upstream subscription while a client remains; the last one leaving ends it', async () => {
    const leaving = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c1') });
    const staying = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c2') });
    await Promise.all([leaving.status(), staying.status()]);

    leaving.leave();
    expect(await leaving.next()).toBeUndefined();
    servers[0].push('saga-1', 'STILL_HERE');
    expect(await staying.status()).toBe('STILL_HERE');
    expect(servers[0].stats.completes).toBe(0);

    staying.leave();
    expect(await staying.next()).toBeUndefined();
    await servers[0].until((stats) => stats.completes === 1);
  });

  it('keeps an unused connection for the idle time, reuses it meanwhile, then closes it', async () => {
    const first = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c1') });
    await first.status();
    first.leave();
    await first.next();
    await servers[0].until((stats) => stats.completes === 1);

    clock.advance(IDLE_MS - 1);
    const again = new Client(pool, { variables: { id: 'saga-2' }, headers: headers('alice', 'c2') });
    expect(await again.status()).toBe('a:saga-2:snapshot');
    expect(servers[0].stats.sockets).toBe(1);
    again.leave();
    await again.next();

    clock.advance(IDLE_MS - 1);
    expect(pool.connectionCount).toBe(1);
    clock.advance(1);
    expect(pool.connectionCount).toBe(0);
    await servers[0].until((stats) => stats.open === 0);
  });

  it('resubscribes on another instance when its instance goes away, starting from its snapshot', async () => {
    servers.push(await new UpstreamServer('b').start());
    const client = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c1') });
    expect(await client.status()).toBe('a:saga-1:snapshot');

    instances = [servers[1].instance];
    await servers[0].kill();
    expect(await client.status()).toBe('b:saga-1:snapshot');
    servers[1].push('saga-1', 'COMPLETED');
    expect(await client.status()).toBe('COMPLETED');
    expect(servers[1].stats.subscribes).toBe(1);
  });

  it('answers SUBGRAPH_UNAVAILABLE at once when no instance is healthy', async () => {
    instances = [];
    const client = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c1') });
    const result = await client.next();
    expect(result?.errors?.[0].extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'status' });
    expect(await client.next()).toBeUndefined();
  });

  it('fails the subscriptions with SUBGRAPH_UNAVAILABLE when no instance is left to reconnect to, and starts afresh after', async () => {
    const client = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c1') });
    await client.status();
    instances = [];
    await servers[0].kill();
    const failed = await client.next();
    expect(failed?.errors?.[0].message).toBe('subgraph status is unavailable for this subscription (no healthy instance of status)');
    expect(failed?.errors?.[0].extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE' });
    expect(await client.next()).toBeUndefined();

    servers.push(await new UpstreamServer('b').start());
    instances = [servers[1].instance];
    const next = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c2') });
    expect(await next.status()).toBe('b:saga-1:snapshot');
  });

  it('closes every connection on stop: the subscriptions on them end', async () => {
    const alice = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c1') });
    const bob = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('bob', 'c2') });
    await Promise.all([alice.status(), bob.status()]);
    await pool.stop();
    await servers[0].until((stats) => stats.open === 0);
    expect(await alice.next()).toBeUndefined();
    expect(await bob.next()).toBeUndefined();
    const after = new Client(pool, { variables: { id: 'saga-1' }, headers: headers('alice', 'c3') });
    expect((await after.next())?.errors?.[0].extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
  });
});
