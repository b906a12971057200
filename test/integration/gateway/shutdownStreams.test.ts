/**
 * Stopping the gateway while subscribers are connected: graphql-ws clients get a proper close
 * (1001 Going Away), SSE streams end cleanly (no reset), and the stop does not wait out its grace.
 */
import { EventEmitter, on } from 'node:events';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { InMemoryDiscovery } from '@trellis/kit/testing';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { InMemoryEventBus } from '@trellis/kit/testing';
import { DevHubServer } from '@trellis/kit/internal/devhub';
import { eventually, postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import type { Subgraph } from '@trellis/kit';

const GRACE_MS = 5000;

/** A subgraph whose `ticks` subscription never ends by itself: one event every 100 ms. */
const ticker = async () => ({
  name: 'ticker',
  typeDefs: /* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Query { ticking: Boolean! }
    type Subscription { ticks: Int! }
  `,
  resolvers: {
    Query: { ticking: () => true },
    Subscription: {
      ticks: {
        subscribe: async function* () {
          const emitter = new EventEmitter();
          let count = 0;
          const timer = setInterval(() => emitter.emit('tick', count++), 100);
          try {
            for await (const [tick] of on(emitter, 'tick')) yield { ticks: tick as number };
          } finally {
            clearInterval(timer);
          }
        },
      },
    },
  },
});

describe('gateway stop with open subscriptions', () => {
  let hub: DevHubServer;
  let subgraph: Subgraph;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    hub = new DevHubServer({ targets: { discovery: new InMemoryDiscovery(), state: new InMemoryStateStore(), events: new InMemoryEventBus() } });
    const hubUrl = await hub.start();
    subgraph = await startSubgraph(ticker as never, { TRELLIS_DEVHUB_URL: hubUrl });
    gateway = await startGateway({ TRELLIS_DEVHUB_URL: hubUrl, SHUTDOWN_GRACE_MS: String(GRACE_MS) });
    await eventually(async () => expect((await postGraphQL(gateway.url, '{ ticking }')).body.data).toEqual({ ticking: true }), 10_000);
  });

  afterAll(async () => {
    await subgraph.stop();
    await hub.stop();
  });

  it('closes graphql-ws with 1001 and ends SSE streams cleanly, in well under the grace', async () => {
    const sse = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { ticks }' }),
    });
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    let sseText = '';
    while (!sseText.includes('event: next')) sseText += new TextDecoder().decode((await reader.read()).value);

    let wsClose: { code: number } | undefined;
    const wsClient = createClient({ url: gateway.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, on: { closed: (event) => (wsClose = event as { code: number }) } });
    let firstTick!: () => void;
    const ticking = new Promise<void>((resolve) => (firstTick = resolve));
    const wsEnded = new Promise<unknown>((resolve) => {
      wsClient.subscribe({ query: 'subscription { ticks }' }, { next: () => firstTick(), error: resolve, complete: () => resolve('complete') });
    });
    await ticking;

    const started = performance.now();
    await gateway.stop();
    const stopMs = performance.now() - started;

    // The SSE stream ends: read() resolves `done` rather than rejecting with a reset.
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      sseText += new TextDecoder().decode(value);
    }
    expect(sseText).toContain('event: next');
    // Ended, not completed: the subscription did not finish, so an SSE client may resubscribe elsewhere.
    expect(sseText).not.toContain('event: complete');
    await wsEnded;
    expect(wsClose?.code).toBe(1001);
    expect(stopMs).toBeLessThan(1000);
    await wsClient.dispose();
  });
});
