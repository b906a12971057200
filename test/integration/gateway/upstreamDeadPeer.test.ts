/**
 * The gateway's upstream subscription notices a subgraph instance that stops answering. Two
 * instances of a kit subgraph run in child processes; the one serving the subscription is frozen
 * for real (SIGSTOP: its TCP connection stays open, nothing answers). Without keep-alive the
 * subscription would wait on it for ever; with it, the missing pong terminates the connection
 * within the ping interval plus the pong timeout, and the subscription resumes on the other one.
 */
import { UpstreamConnections } from '../../../gateway/subscriptions/upstream';
import type { ServiceInstance } from '@trellis/kit';
import { spawnPeer, type PeerProcess } from '../../support/peerProcess';

const PING_INTERVAL_MS = 500;
const PONG_TIMEOUT_MS = 1000;
/** Timers fire late on a loaded 2-core machine; still far below "never". */
const SLACK_MS = 3000;

describe('upstream subscription to a frozen subgraph instance', () => {
  let peers: PeerProcess[] = [];
  let connections: UpstreamConnections;
  const deadPeers: Array<{ subgraph: string; at: number }> = [];

  beforeAll(async () => {
    peers = await Promise.all([spawnPeer('ticker-a'), spawnPeer('ticker-b')]);
  });
  afterAll(async () => {
    await connections?.close();
    await Promise.all(peers.map((peer) => peer.stop()));
  });

  it('terminates the connection once a ping goes unanswered, and resumes the subscription on the healthy instance', async () => {
    connections = new UpstreamConnections({
      keepAlive: { pingIntervalMs: PING_INTERVAL_MS, pongTimeoutMs: PONG_TIMEOUT_MS },
      onDeadPeer: (subgraph) => deadPeers.push({ subgraph, at: performance.now() }),
    });
    const instances: ServiceInstance[] = peers.map((peer) => ({ id: peer.name, name: 'ticker', url: peer.url, meta: {}, healthy: true }));
    const events = connections.subscribe({ subgraph: 'ticker', instances: () => instances, query: 'subscription { ticks }', variables: {}, headers: {} });

    const first = await events.next();
    const [servedBy] = String((first.value as { data: { ticks: string } }).data.ticks).split(' ');
    const victim = peers.find((peer) => peer.name === servedBy)!;
    const survivor = peers.find((peer) => peer.name !== servedBy)!;
    // A few pings answered first: keep-alive leaves a live peer alone.
    for (let seen = 0; seen < 15; seen++) expect(((await events.next()).value as { data: { ticks: string } }).data.ticks).toMatch(new RegExp(`^${victim.name} `));
    expect(deadPeers).toEqual([]);

    victim.freeze();
    const frozenAt = performance.now();
    // Every event from now on: at most the ones already in flight from the victim, then the survivor's.
    let fromSurvivor: string | undefined;
    while (!fromSurvivor) {
      const next = await events.next();
      expect(next.done).toBe(false);
      const ticks = (next.value as { data?: { ticks: string } }).data?.ticks;
      expect(ticks).toMatch(/^ticker-[ab] \d+$/);
      if (ticks!.startsWith(survivor.name)) fromSurvivor = ticks;
    }
    const resumedMs = Math.round(performance.now() - frozenAt);
    const noticedMs = Math.round(deadPeers[0].at - frozenAt);
    process.stdout.write(`frozen subgraph instance: noticed after ${noticedMs} ms (ping ${PING_INTERVAL_MS} ms + pong timeout ${PONG_TIMEOUT_MS} ms), subscription resumed on the other after ${resumedMs} ms\n`);
    expect(deadPeers.map((dead) => dead.subgraph)).toContain('ticker');
    expect(noticedMs).toBeLessThan(PING_INTERVAL_MS + PONG_TIMEOUT_MS + SLACK_MS);
    victim.thaw();
    await events.return(undefined);
  }, 60_000);

  it('ends the subscription with SUBGRAPH_UNAVAILABLE when the frozen instance was the only one and discovery drops it', async () => {
    const [only] = peers;
    let healthy = true;
    const deadAt: number[] = [];
    const single = new UpstreamConnections({ keepAlive: { pingIntervalMs: PING_INTERVAL_MS, pongTimeoutMs: PONG_TIMEOUT_MS }, onDeadPeer: () => deadAt.push(performance.now()) });
    const instance: ServiceInstance = { id: only.name, name: 'ticker', url: only.url, meta: {}, healthy: true };
    const events = single.subscribe({ subgraph: 'ticker', instances: () => (healthy ? [instance] : []), query: 'subscription { ticks }', variables: {}, headers: {} });
    try {
      expect(((await events.next()).value as { data: { ticks: string } }).data.ticks).toMatch(new RegExp(`^${only.name} `));
      only.freeze();
      // As discovery would once the frozen instance fails its health checks.
      healthy = false;
      const frozenAt = performance.now();
      let last: { errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> } | undefined;
      for (;;) {
        const next = await events.next();
        if (next.done) break;
        last = next.value as typeof last;
        if (last?.errors) break;
      }
      process.stdout.write(`frozen only instance: noticed after ${Math.round(deadAt[0] - frozenAt)} ms, subscription ended after ${Math.round(performance.now() - frozenAt)} ms\n`);
      expect(last?.errors?.[0]).toMatchObject({ message: expect.stringContaining('no healthy instance of ticker'), extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'ticker' } });
      expect(deadAt[0] - frozenAt).toBeLessThan(PING_INTERVAL_MS + PONG_TIMEOUT_MS + SLACK_MS);
    } finally {
      only.thaw();
      await events.return(undefined);
      await single.close();
    }
  }, 60_000);
});
