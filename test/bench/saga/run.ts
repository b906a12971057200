/**
 * `npm run bench:saga`: placeOrder sagas end to end, mutation to terminal state on the
 * subscription, on the platform `npm start` runs: embedded backends (the baseline), then real
 * Kafka + Redis + Consul, each through a concurrency sweep (1, 20, 50, 100 in flight by default)
 * by many users; then what durability costs: the state store on a Redis Sentinel set at each
 * REDIS_MIN_REPLICAS_ACK, their levels interleaved. The platforms run as child processes; this
 * process is the load generator.
 */
import path from 'node:path';
import { machineFacts, writeResultsSection } from '../gateway/results';
import type { KafkaClientName } from '@trellis/kit/internal/events';
import { realBackends } from '../../support/backends';
import { loadSagaBenchSettings, type Backends, type SagaBenchSettings } from './settings';
import { BENCH_DIR, log, startPlatformBench, type PlatformBench, type PlatformSpec } from './platformBench';
import { benchSentinelSet, type BenchSentinelSet } from './sentinelSet';
import { renderCpuTable, renderDurabilityTable, renderKafkaTable, renderSagaTable, renderStateTable, type SagaRow } from './table';

const realLabel = (client: KafkaClientName) => `real (Kafka via ${client} + Redis + Consul)`;

/** The platforms of one backend kind, in groups: the platforms of a group run their levels interleaved. */
function groupsOf(backends: Backends, settings: SagaBenchSettings, sentinel?: BenchSentinelSet): PlatformSpec[][] {
  if (backends === 'embedded') return [[{ backends, label: 'embedded (dev hub)', run: 'embedded', concurrency: settings.concurrency, env: {} }]];
  if (backends === 'real') {
    // The stack's standalone Redis even when REDIS_SENTINELS is set (that names the sentinel backends' set).
    const redisEnv = { REDIS_URL: realBackends.redisUrl };
    return settings.kafkaClients.map((client) => [{ backends, label: realLabel(client), run: `real-${client}`, concurrency: settings.concurrency, env: { KAFKA_CLIENT: client }, redisEnv }]);
  }
  // The durability runs: one platform per REDIS_MIN_REPLICAS_ACK on one Sentinel set, levels interleaved.
  const client = settings.kafkaClients[0];
  return [
    settings.replicaAcks.map((ack) => ({
      backends,
      label: `real, Redis Sentinel, REDIS_MIN_REPLICAS_ACK=${ack}`,
      run: `sentinel-ack${ack}`,
      concurrency: settings.durabilityConcurrency,
      env: { KAFKA_CLIENT: client, REDIS_MIN_REPLICAS_ACK: String(ack) },
      redisEnv: sentinel!.env,
      redisServers: () => sentinel!.servers(),
      replicaAck: ack,
    })),
  ];
}

/** Starts a group's platforms, runs level 1 on each, then level 2 on each..., and stops them. */
async function runGroup(specs: PlatformSpec[], settings: SagaBenchSettings): Promise<SagaRow[]> {
  const benches: PlatformBench[] = [];
  try {
    for (const spec of specs) benches.push(await startPlatformBench(spec, settings));
    for (let level = 0; level < specs[0].concurrency.length; level++) for (const bench of benches) await bench.runLevel(level);
  } finally {
    for (const bench of benches) await bench.stop();
  }
  return benches.flatMap((bench) => bench.rows);
}

function markdown(settings: SagaBenchSettings, rows: SagaRow[], sentinel?: string): string {
  return [
    '## Sagas (`npm run bench:saga`)',
    '',
    ...machineFacts().map((fact) => `- ${fact}`),
    `- load: a sweep of ${settings.concurrency.join(', ')} sagas in flight (embedded and real), ${settings.sagas} placeOrder sagas per level (${settings.soloSagas} at 1 in flight), after ${settings.warmupSagas} unmeasured; all through the gateway, loopback`,
    `- users: ${settings.users} signed-in users, each with its own token and graphql-ws client (kept open between their sagas); orders go to users in turn`,
    '- orders: one unit each; card-ok orders spend the seeded stock (COMPLETED), shared out between the levels and going round all five products; the rest use a declined card (reserve, charge refused, release: COMPENSATED) so no order is refused for stock',
    '- **embedded (dev hub)**: `npm start` with no backend variables, the in-memory dev hub: the baseline',
    `- **real**: \`npm start\` on Kafka, Redis and Consul (test/stack), fresh key and topic prefixes; Kafka client (\`KAFKA_CLIENT\`): ${settings.kafkaClients.join(', ')}`,
    ...(sentinel
      ? [
          `- **real, Redis Sentinel**: the same with the state store on ${sentinel}, one platform per \`REDIS_MIN_REPLICAS_ACK\` (${settings.replicaAcks.join(', ')}), their levels interleaved (a sweep of ${settings.durabilityConcurrency.join(', ')} in flight, each level on every platform before the next level); Kafka client ${settings.kafkaClients[0]}`,
        ]
      : []),
    '',
    renderSagaTable(rows),
    '',
    renderStateTable(rows),
    '',
    '### CPU time per saga, by process',
    '',
    renderCpuTable(rows),
    '',
    '### Kafka traffic per saga',
    '',
    renderKafkaTable(rows),
    '',
    ...(sentinel
      ? [
          '### What durability costs (`REDIS_MIN_REPLICAS_ACK`, state store on Redis Sentinel)',
          '',
          renderDurabilityTable(rows),
          '',
          `×ack ${Math.min(...settings.replicaAcks)}: this row divided by the \`REDIS_MIN_REPLICAS_ACK=${Math.min(...settings.replicaAcks)}\` row at the same concurrency, measured right before or after it on the same Sentinel set. Redis CPU: the primary's and the replica's per saga.`,
          '',
        ]
      : []),
    'Latency: from sending placeOrder to receiving the terminal state on sagaStatus. sagas/s: terminal sagas divided by the wall time of the measured run.',
    '×embedded: this row divided by the embedded row at the same concurrency (sagas/s above 1 is better; latency below 1 is better).',
    'CPU: user + system time of each process during the level (from /proc), divided by the sagas that ended; "CPU busy" is all of it over the wall time (the machine has 2 cores, so 200% is all of it; the load generator is not counted).',
    'Kafka traffic: requests by API and messages produced by all services during the level (their `trellis_kafka_requests_total` and `trellis_kafka_produced_messages_total`), and the broker\'s CPU, per saga that ended; `load` is the machine\'s 1-minute load average when the level ended (other work on the machine included).',
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = loadSagaBenchSettings(path.join(BENCH_DIR, 'RESULTS.md'));
  const rows: SagaRow[] = [];
  let sentinelDescription: string | undefined;
  for (const backends of settings.backends) {
    const sentinel = backends === 'sentinel' ? await benchSentinelSet(settings) : undefined;
    sentinelDescription ??= sentinel?.description;
    try {
      for (const group of groupsOf(backends, settings, sentinel)) rows.push(...(await runGroup(group, settings)));
    } finally {
      await sentinel?.stop();
    }
  }
  const report = markdown(settings, rows, sentinelDescription);
  process.stdout.write(`${report}\n`);
  if (settings.resultsPath) {
    writeResultsSection(settings.resultsPath, report, 'saga');
    log(`written to ${path.relative(process.cwd(), settings.resultsPath)}`);
  }
}

// A stray rejection (a watcher's poll cut off by its timeout on a loaded machine) is logged, not
// allowed to end a run of many minutes with nothing written.
process.on('unhandledRejection', (error: unknown) => log(`unhandled rejection, the run goes on: ${(error as Error).stack ?? String(error)}`));

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
