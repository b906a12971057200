/**
 * Nothing waits for ever on a frozen peer, on the platform `npm start` runs with short keep-alive
 * settings (UPSTREAM_WS_PING_INTERVAL_MS, UPSTREAM_WS_PONG_TIMEOUT_MS): the process is stopped for
 * real (SIGSTOP: its connections stay open, nothing answers), then resumed (SIGCONT).
 * - The sagas subgraph freezes under a client's `sagaStatus` subscription: the gateway notices
 *   (its log says so) and the client's subscription ends with SUBGRAPH_UNAVAILABLE.
 * - The gateway freezes under a mobile BFF progress stream: the BFF notices (its log says so) and
 *   ends the stream with `event: error` GATEWAY_UNAVAILABLE.
 */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { eventually, postGraphQL } from '../support/graphql';
import { platformToken } from '../support/identity';
import { findService } from '../support/serviceProcess';

const PING_INTERVAL_MS = 500;
const PONG_TIMEOUT_MS = 1000;
/** Timers fire late on a loaded 2-core machine; still far below "never". */
const SLACK_MS = 4000;
const PLACE_ORDER = `mutation { placeOrder(input: { items: [{ productId: "p1", quantity: 1 }], paymentMethod: "card-ok" }) { sagaId } }`;
const SAGA_STATUS = `subscription($id: ID!) { sagaStatus(id: $id) { id state } }`;

/** The JSON log lines of `service` in the platform's output (the launcher prefixes each with `name | `). */
function logLines(output: string, service: string): Array<{ msg: string; [key: string]: unknown }> {
  return output
    .split('\n')
    .filter((line) => line.startsWith(`${service} `))
    .flatMap((line) => {
      try {
        return [JSON.parse(line.slice(line.indexOf('{')))];
      } catch {
        return [];
      }
    });
}

describe('frozen peers on the platform', () => {
  let platform: RunningPlatform;
  let authorization: string;
  let frozen: number | undefined;

  beforeAll(async () => {
    platform = await startPlatform({
      env: {
        LOG_FORMAT: 'json',
        UPSTREAM_WS_PING_INTERVAL_MS: String(PING_INTERVAL_MS),
        UPSTREAM_WS_PONG_TIMEOUT_MS: String(PONG_TIMEOUT_MS),
        // Each saga step waits, so a saga is still running while its watchers are tested.
        SAGA_STEP_PAUSE_MS: '10000',
      },
    });
    authorization = `Bearer ${await platformToken(platform.base, 'u1', ['payments:read'])}`;
  });
  afterEach(() => {
    if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
    frozen = undefined;
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const placeOrder = async () => {
    const { body } = await postGraphQL<{ placeOrder: { sagaId: string } }>(platform.gatewayUrl, PLACE_ORDER, { headers: { authorization } });
    expect(body.errors).toBeUndefined();
    return body.data!.placeOrder.sagaId;
  };
  const freeze = (service: string) => {
    frozen = findService(platform.pid, service).pid;
    process.kill(frozen, 'SIGSTOP');
    return performance.now();
  };

  it('the gateway gives up a frozen subgraph, and the subscription on it ends with SUBGRAPH_UNAVAILABLE', async () => {
    const sagaId = await placeOrder();
    const client = createClient({ url: platform.gatewayUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { headers: { authorization } }, retryAttempts: 0 });
    const events = client.iterate<{ sagaStatus: { id: string; state: string } }>({ query: SAGA_STATUS, variables: { id: sagaId } });
    try {
      expect((await events.next()).value).toMatchObject({ data: { sagaStatus: { id: sagaId } } });
      const frozenAt = freeze('sagas');
      const noticed = await eventually(async () => {
        const line = logLines(platform.output(), 'gateway').find((entry) => /subgraph sagas did not answer a ping/.test(entry.msg));
        expect(line).toBeDefined();
        return performance.now();
      }, PING_INTERVAL_MS + PONG_TIMEOUT_MS + SLACK_MS, 50);
      process.stdout.write(`platform: the gateway noticed the frozen sagas subgraph ${Math.round(noticed - frozenAt)} ms after the freeze\n`);
      // Its retries find the instance frozen, then gone from discovery; the client then hears why its subscription ended.
      let last: IteratorResult<{ errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }> | undefined;
      for (;;) {
        const next = await events.next();
        if (next.done) break;
        last = next;
        if (next.value.errors) break;
      }
      expect(last?.value.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'sagas' });
    } finally {
      await events.return?.(undefined);
      await client.dispose();
    }
  }, 120_000);

  it('the mobile BFF gives up a frozen gateway, and ends the progress stream with GATEWAY_UNAVAILABLE', async () => {
    // After the first test the sagas subgraph is back, once its health checks pass and the gateway composes it again.
    const sagaId = await eventually(placeOrder, 60_000, 250);
    const response = await fetch(`http://127.0.0.1:${platform.base + 200}/v1/orders/${sagaId}/progress`, { headers: { authorization } });
    expect(response.status).toBe(200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let stream = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(stream)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}:\n${stream}`);
        stream += value;
      }
    };
    await readUntil(/event: progress\n/);
    const frozenAt = freeze('gateway');
    await readUntil(/event: error\ndata: .*\n\n/);
    const failedMs = Math.round(performance.now() - frozenAt);
    process.stdout.write(`platform: the mobile BFF ended the progress stream ${failedMs} ms after the gateway froze\n`);
    expect(JSON.parse(/event: error\ndata: (.*)\n/.exec(stream)![1])).toMatchObject({ code: 'GATEWAY_UNAVAILABLE' });
    expect(failedMs).toBeLessThan(PING_INTERVAL_MS + PONG_TIMEOUT_MS + SLACK_MS);
    // Its log line comes through the launcher's pipe, maybe after the stream's last event.
    await eventually(async () => expect(logLines(platform.output(), 'mobile-bff').map((entry) => entry.msg)).toContain('the gateway did not answer a ping; the saga progress subscription was terminated'), 10_000, 50);
  }, 120_000);
});
