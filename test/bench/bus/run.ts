/**
 * EventBus ping-pong benchmark, saga-shaped: N keys in flight, each doing 6 hops (topic A ->
 * consumer replies on B -> consumer replies on A ...), every handler awaiting ~1 ms as a Redis call
 * would. Measures the bus of `main` (copied from git into .bench/ for the run) and of this checkout,
 * on the real Kafka (KAFKA_BROKERS, default 127.0.0.1:9092) and in memory, and prints one table.
 *
 *   scripts/runtime/node24 npx tsx test/bench/bus/run.ts [--seconds 4] [--keys 1,20,50] [--base main] [--only memory|kafka] [--coalesce]
 *
 * --coalesce adds this checkout without publish coalescing (one producer.send per publish).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { EventBus, EventMessage, Subscription } from '../../../shared/events';

const HOPS = 6;
const root = resolve(__dirname, '../../..');
const args = new Map(process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith('--') ? [[arg.slice(2), all[i + 1]]] : [])));
const seconds = Number(args.get('seconds') ?? 4);
const keyCounts = (args.get('keys') ?? '1,20,50').split(',').map(Number);
const base = args.get('base') ?? 'main';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const only = args.get('only');

interface BusModule {
  InMemoryEventBus: new () => EventBus;
  KafkaEventBus: new (options: { brokers: string[]; clientId?: string; namespace?: string; logger?: unknown; coalescePublishes?: boolean }) => EventBus;
}

interface Result {
  hopsPerSecond: number;
  p50: number;
  p99: number;
}

/** `base`'s shared/events beside symlinks to this checkout's other shared folders, so it imports as it did there. */
function baseBus(): { module: BusModule; cleanup: () => void } {
  const dir = join(root, '.bench', `bus-${base.replace(/[^\w.-]/g, '_')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'shared', 'events'), { recursive: true });
  for (const entry of readdirSync(join(root, 'shared'))) {
    if (entry !== 'events') symlinkSync(join(root, 'shared', entry), join(dir, 'shared', entry));
  }
  const files = execFileSync('git', ['ls-tree', '--name-only', `${base}:shared/events`], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const file of files) {
    writeFileSync(join(dir, 'shared', 'events', file), execFileSync('git', ['show', `${base}:shared/events/${file}`], { cwd: root }));
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(join(dir, 'shared', 'events')) as BusModule;
  return { module, cleanup: () => rmSync(join(root, '.bench'), { recursive: true, force: true }) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs the ping-pong for `seconds` with `keys` sagas in flight; a finished saga is replaced by a new one. */
async function pingPong(bus: EventBus, keys: number): Promise<Result> {
  const run = randomUUID().slice(0, 8);
  const [a, b] = [`bench-${run}-a`, `bench-${run}-b`];
  await bus.ensureTopics([a, b]);
  const latencies: number[] = [];
  let hops = 0;
  let measuring = false;
  let running = true;
  let nextSaga = 0;
  const send = (topic: string, key: string, hop: number) =>
    bus.publish(topic, { key, value: JSON.stringify({ hop, sentAt: performance.now() }) }).catch((error) => console.error('publish failed', error));
  const startSaga = () => {
    const key = `saga-${run}-${nextSaga++}`;
    return send(a, key, 1);
  };
  const handler = (replyTo: string) => async (message: EventMessage) => {
    const { hop, sentAt } = JSON.parse(message.value) as { hop: number; sentAt: number };
    if (measuring) {
      latencies.push(performance.now() - sentAt);
      hops += 1;
    }
    await sleep(1); // the Redis round trip of a saga step
    if (!running) return;
    if (hop < HOPS) await send(replyTo, message.key as string, hop + 1);
    else await startSaga();
  };
  const subscriptions: Subscription[] = [
    await bus.subscribe({ groupId: `bench-${run}-on-a`, topics: [a], fromBeginning: true, handler: handler(b) }),
    await bus.subscribe({ groupId: `bench-${run}-on-b`, topics: [b], fromBeginning: true, handler: handler(a) }),
  ];
  await Promise.all(Array.from({ length: keys }, startSaga));
  await sleep(1000); // warm-up: connections, first fetches
  measuring = true;
  const started = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  running = false;
  await Promise.all(subscriptions.map((s) => s.stop()));
  latencies.sort((x, y) => x - y);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { hopsPerSecond: hops / elapsed, p50: at(0.5), p99: at(0.99) };
}

async function measure(module: BusModule, kind: 'memory' | 'kafka', keys: number, extra: { coalescePublishes?: boolean } = {}): Promise<Result> {
  const bus = kind === 'memory' ? new module.InMemoryEventBus() : new module.KafkaEventBus({ brokers, clientId: 'bus-bench', namespace: `bench-${randomUUID().slice(0, 6)}.`, ...extra });
  try {
    return await pingPong(bus, keys);
  } finally {
    await bus.close();
  }
}

async function main(): Promise<void> {
  const before = baseBus();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const after = require(join(root, 'shared', 'events')) as BusModule;
  const rows: string[][] = [];
  const cell = (r: Result) => [r.hopsPerSecond.toFixed(0), `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`];
  try {
    for (const kind of ['memory', 'kafka'] as const) {
      if (only && only !== kind) continue;
      for (const keys of keyCounts) {
        const old = await measure(before.module, kind, keys);
        const now = await measure(after, kind, keys);
        const row = [kind, String(keys), ...cell(old), ...cell(now), `x${(now.hopsPerSecond / old.hopsPerSecond).toFixed(1)}`];
        if (kind === 'kafka' && args.has('coalesce')) row.push(...cell(await measure(after, kind, keys, { coalescePublishes: false })));
        rows.push(row);
        console.error(row.join('  '));
      }
    }
  } finally {
    before.cleanup();
  }
  const header = ['bus', 'keys', `${base} hops/s`, `${base} p50/p99 ms`, 'now hops/s', 'now p50/p99 ms', 'speed-up'];
  if (args.has('coalesce')) header.push('now, one send per publish: hops/s', 'p50/p99 ms');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${HOPS} hops per saga, handler awaits 1 ms, ${seconds} s per run after 1 s warm-up\n`);
  console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
