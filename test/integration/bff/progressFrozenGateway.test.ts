/**
 * A BFF's saga progress subscription notices a gateway that stops answering. The peer runs in a
 * child process and is frozen for real (SIGSTOP: its TCP connection stays open, nothing answers)
 * after sending the first state. Without keep-alive the progress stream would wait for ever; with
 * it, the missing pong terminates the connection within the ping interval plus the pong timeout,
 * and the stream fails with GATEWAY_UNAVAILABLE (what the web and mobile BFFs pass to the client).
 */
import { sagaProgress, type SagaStatus } from '../../../bff/shared';
import { spawnPeer, type PeerProcess } from '../../support/peerProcess';

const PING_INTERVAL_MS = 500;
const PONG_TIMEOUT_MS = 1000;
/** Timers fire late on a loaded 2-core machine; still far below "never". */
const SLACK_MS = 3000;

describe('saga progress from a frozen gateway', () => {
  let gateway: PeerProcess;

  beforeAll(async () => {
    gateway = await spawnPeer('frozen-gateway');
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('fails with GATEWAY_UNAVAILABLE once a ping goes unanswered, instead of waiting for ever', async () => {
    const deadAt: number[] = [];
    const progress = sagaProgress({
      gatewayUrl: gateway.url,
      sagaId: 's1',
      token: 'tok',
      correlationId: 'corr-frozen',
      keepAlive: { pingIntervalMs: PING_INTERVAL_MS, pongTimeoutMs: PONG_TIMEOUT_MS, onDeadPeer: () => deadAt.push(performance.now()) },
    });
    // A live gateway is left alone: states keep coming over several ping rounds, and no peer is given up.
    const liveSince = performance.now();
    let attempts = 0;
    while (performance.now() - liveSince < 2 * (PING_INTERVAL_MS + PONG_TIMEOUT_MS)) {
      const state = (await progress.next()).value as SagaStatus;
      expect(state).toEqual<SagaStatus>({ id: 's1', state: 'RUNNING', steps: [{ name: 'tick', state: 'RUNNING', attempts: attempts + 1, error: null }], order: null });
      attempts += 1;
    }
    expect(deadAt).toEqual([]);

    gateway.freeze();
    const frozenAt = performance.now();
    // The states already in flight, then the failure.
    let failure: { status: number; code: string; message: string } | undefined;
    while (!failure) {
      try {
        const next = await progress.next();
        expect(next.done).toBe(false);
        expect((next.value as SagaStatus).steps[0].attempts).toBe(++attempts);
      } catch (error) {
        failure = error as typeof failure;
      }
    }
    const failedMs = Math.round(performance.now() - frozenAt);
    process.stdout.write(`frozen gateway: the saga progress stream failed ${failedMs} ms after the freeze (ping ${PING_INTERVAL_MS} ms + pong timeout ${PONG_TIMEOUT_MS} ms)\n`);
    expect(failure).toMatchObject({ status: 503, code: 'GATEWAY_UNAVAILABLE' });
    expect(deadAt).toHaveLength(1);
    expect(failedMs).toBeLessThan(PING_INTERVAL_MS + PONG_TIMEOUT_MS + SLACK_MS);
    gateway.thaw();
  }, 60_000);

  it('fails with GATEWAY_UNAVAILABLE when the gateway accepts the connection but never answers the upgrade', async () => {
    gateway.freeze();
    try {
      const started = performance.now();
      const progress = sagaProgress({ gatewayUrl: gateway.url, sagaId: 's1', token: 'tok', correlationId: 'corr-frozen-2', keepAlive: { pingIntervalMs: PING_INTERVAL_MS, pongTimeoutMs: PONG_TIMEOUT_MS } });
      // The frozen process's kernel still completes the TCP handshake; only the bound on the upgrade ends the wait.
      await expect(progress.next()).rejects.toMatchObject({ status: 503, code: 'GATEWAY_UNAVAILABLE' });
      const failedMs = Math.round(performance.now() - started);
      process.stdout.write(`frozen gateway: a new progress stream failed ${failedMs} ms after it started (upgrade bound ${PONG_TIMEOUT_MS} ms)\n`);
      expect(failedMs).toBeLessThan(PONG_TIMEOUT_MS + SLACK_MS);
    } finally {
      gateway.thaw();
    }
  }, 60_000);
});
