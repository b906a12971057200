/**
 * What one forwarded subscription costs the gateway: 500 sagaStatus-like subscriptions (each a
 * client connection to the gateway, as the BFF opens one, its first event, then leaving), one
 * after another and then 20 at a time (also 20 at a time on 10 sagas, and with a caller identity
 * each, which shares no connection upstream), through `gateway/main.ts --supergraph` in its own process.
 * Reports wall time and the gateway process's CPU per subscription, from /proc.
 *
 *   scripts/runtime/node24 npx tsx test/bench/gateway/subscriptions.ts [gateway checkout, default this one]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { composeServices } from '@apollo/composition';
import { UpstreamServer } from '../../support/upstreamServer';
import { freePort } from '../../support/ports';
import { spawnProcess } from './processes';

const TOTAL = Number(process.env.BENCH_SUBSCRIPTIONS ?? 500);
const CONCURRENCY = 20;
const WARM_UP = 50;
const SUBSCRIPTION = 'subscription Watch($id: ID!) { status(id: $id) }';
const CLOCK_TICKS = 100; // USER_HZ on Linux

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '../../..'));

function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6; // utime + stime
}

/** One client as the BFF is: its own connection to the gateway, one subscription, gone after the first event. */
async function watchOnce(url: string, id: string, headers: Record<string, string>): Promise<void> {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { headers } });
  try {
    await new Promise<void>((resolve, reject) => {
      const leave = client.subscribe(
        { query: SUBSCRIPTION, variables: { id }, operationName: 'Watch' },
        {
          next: (result) => {
            if (result.errors) reject(new Error(JSON.stringify(result.errors)));
            leave();
            resolve();
          },
          error: reject,
          complete: () => resolve(),
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

async function run(label: string, url: string, pid: number, count: number, concurrency: number, idOf: (n: number) => string, identityOf: (n: number) => Record<string, string> = () => ({})) {
  const cpuBefore = cpuMicros(pid);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const n = next++;
        await watchOnce(url, idOf(n), { 'x-correlation-id': `bench-${label}-${n}`, ...identityOf(n) });
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = cpuMicros(pid) - cpuBefore;
  return { label, count, concurrency, wallMs: Math.round(wallMs), perSecond: Math.round((count / wallMs) * 1000), gatewayCpuMicrosEach: Math.round(cpu / count) };
}

async function main(): Promise<void> {
  const upstream = await new UpstreamServer('bench').start();
  const typeDefs = parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Query { ok: Boolean } type Subscription { status(id: ID!): String! }`);
  const composed = composeServices([{ name: 'status', typeDefs, url: upstream.url }]);
  if (composed.errors) throw composed.errors[0];
  const dir = mkdtempSync(path.join(tmpdir(), 'trellis-subs-bench-'));
  const supergraphPath = path.join(dir, 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
  const port = await freePort();
  const gateway = spawnProcess('gateway', {
    command: process.execPath,
    args: ['--import', 'tsx', path.join(root, 'gateway/main.ts'), '--supergraph', supergraphPath],
    cwd: root,
    env: { NODE_ENV: 'production', LOG_LEVEL: 'error', PORT: String(port), HOST: '127.0.0.1' },
  });
  const url = `ws://127.0.0.1:${port}/graphql`;
  try {
    for (let ready = false; !ready; ) {
      if (gateway.hasExited()) throw new Error(`gateway exited:\n${gateway.output()}`);
      ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await run('warm-up', url, gateway.pid, WARM_UP, 1, (n) => `warm-${n}`);
    const results = [
      await run('sequential', url, gateway.pid, TOTAL, 1, (n) => `saga-${n}`),
      await run('20 concurrent', url, gateway.pid, TOTAL, CONCURRENCY, (n) => `saga-c${n}`),
      await run('20 concurrent, 10 sagas', url, gateway.pid, TOTAL, CONCURRENCY, (n) => `saga-s${n % 10}`),
      // A header the default rules forward and that is no per-request one: a caller identity of its own
      // (as a token would be, without an issuer to sign one), so no two clients share a connection.
      await run('20 concurrent, own identity each', url, gateway.pid, TOTAL, CONCURRENCY, (n) => `saga-i${n}`, (n) => ({ 'idempotency-key': `caller-${n}` })),
    ];
    console.log(JSON.stringify({ root, upstream: upstream.stats.sockets + ' sockets, ' + upstream.stats.subscribes + ' subscribes upstream', results }, null, 2));
  } finally {
    await gateway.stop();
    await upstream.kill();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
