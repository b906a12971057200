/** The gateway section of RESULTS.md: how the run was made, then the realistic, repeated and fixed-rate tables. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchSettings } from './settings';
import { TARGETS } from './targets';
import { MIX_SHARES, PAGE_SIZES, type Workload } from './operations';
import { PRODUCT_COUNT, SCOPE_EMAIL, SCOPE_PAYMENTS, type Dataset } from './dataset';
import { markdownTable, renderRateTable, renderTable, renderTracingTable, type BenchRow, type RateRow } from './table';
import type { summarizeProfile } from './profile';
import { machineFacts } from './results';
import { hiveVersion } from './hive';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface RunResults {
  realistic?: BenchRow[];
  repeated?: BenchRow[];
  rates?: RateRow[];
}

interface RunFacts {
  data: Dataset;
  suites: { realistic: Workload[]; repeated: Workload[] };
  profile?: { target: string; summary: ReturnType<typeof summarizeProfile> };
  /** What the tracing targets exported to the local OTLP sink over the whole run. */
  exported?: { exports: number; bytes: number };
}

function lacking(data: Dataset, scope: string): number {
  return data.users.filter((user) => !user.scopes.includes(scope)).length;
}

/** The tracing comparison: each run's trellis rows beside trellis-otel / trellis-otel10, from the same interleaved rounds. */
function tracingSection(results: RunResults, exported: RunFacts['exported']): string[] {
  const tables = (['realistic', 'repeated'] as const).flatMap((suite) => {
    const table = results[suite] && renderTracingTable(results[suite]);
    return table ? [`${suite}:`, '', table, ''] : [];
  });
  if (tables.length === 0) return [];
  return [
    '### Tracing off and on (`trellis`, `trellis-otel` 100%, `trellis-otel10` 10%)',
    '',
    'The same gateway with no OTEL_* variable (tracing off: no span, no attribute is built) and with OTLP export to a local collector sink at 100% and 10% parent-based ratio sampling, measured in the same rounds as the rest. ×trellis: divided by tracing off on the same workload (req/s above 1 is better, CPU below 1); +trellis: the CPU µs each request costs more than with tracing off.',
    '',
    ...tables,
    exported ? `Exported to the sink over the run: ${exported.exports} OTLP requests, ${(exported.bytes / 1e6).toFixed(1)} MB.` : '',
    '',
  ];
}

export function report(settings: BenchSettings, results: RunResults, { data, suites, profile, exported }: RunFacts): string {
  const apolloVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@apollo/gateway/package.json'), 'utf8')) as { version: string }).version;
  const targets = TARGETS.filter((target) => settings.targets.includes(target.name)).map((target) => `- **${target.name}**: ${target.description}`);
  const operations = suites.repeated.map((workload) => `- \`${workload.name}\` (${workload.subgraphs.join(', ')}): \`${JSON.parse(workload.calls[0].body).query}\``);
  const repeatedVariables = suites.repeated.map((workload) => `\`${workload.name}\` ${JSON.stringify(workload.calls[0].variables)}`).join(', ');
  return [
    '## Gateway (`npm run bench:gateway`)',
    '',
    ...machineFacts().map((fact) => `- ${fact}`),
    `- closed loop: autocannon, ${settings.connections} connections, ${settings.durationSeconds} s measured after ${settings.warmupSeconds} s warm-up, per target and workload, loopback;`,
    `  ${settings.rounds} interleaved rounds (every gateway runs throughout; each round measures every workload on every target, the target order rotated), the median round shown`,
    `- fixed rate: open-loop generator (undici, up to ${settings.rateConnections} connections, latency from each call's due time), the \`mix\` at ${settings.rates.join(', ')} calls/s, ${settings.rateDurationSeconds} s per target and rate, ${settings.rounds} rounds, the median p99 round shown`,
    `- versions: @apollo/gateway ${apolloVersion}, @graphql-hive/gateway ${hiveVersion()}`,
    '',
    ...targets,
    '',
    `Data (test/bench/gateway/dataset.ts): ${data.users.length} users, ${PRODUCT_COUNT} products, ${data.orders.length} orders, ${data.payments.length} payments. Every user has their own ES256 token from a dev identity provider in the runner; ${lacking(data, SCOPE_PAYMENTS)} lack \`${SCOPE_PAYMENTS}\` and ${lacking(data, SCOPE_EMAIL)} lack \`${SCOPE_EMAIL}\`, so their calls to \`Order.payment\` / \`User.email\` get the rest of the data and an error for that field on every target (counted as "partial as expected", not as failures). Every gateway verifies every token; the subgraphs verify it again and enforce the scopes whichever gateway forwards it.`,
    '',
    'Operations (named, with variables, as a client app sends them):',
    ...operations,
    '',
    `### Realistic mix (the headline)`,
    '',
    `Each workload sends its operation with varied variables from all ${data.users.length} users in a fixed pseudo-random order (the same for every target): \`product\` over all ${PRODUCT_COUNT} products, \`products\` with first ${PAGE_SIZES.join(', ')}, \`user+orders\` and \`four-subgraph\` for the caller's own account; \`mix\` interleaves them (${MIX_SHARES}). Every answer is checked against the data its call must get.`,
    '',
    results.realistic ? renderTable(results.realistic) : '(not run)',
    '',
    '### Repeated queries',
    '',
    `Every request the same operation and variables from one caller with every scope (${repeatedVariables}, as ${data.users[0].id}): the case where deduplication of identical in-flight subgraph fetches shares the most.`,
    '',
    results.repeated ? renderTable(results.repeated) : '(not run)',
    '',
    ...tracingSection(results, exported),
    '### Fixed arrival rates (`mix`)',
    '',
    results.rates ? renderRateTable(results.rates) : '(not run)',
    '',
    'RSS: peak resident memory of the gateway process during the measured run. CPU µs/req: its user+system CPU time divided by the requests served;',
    '"subgraphs CPU µs/req": the same for the one process that runs all four subgraphs (it drops when a gateway deduplicates subgraph calls).',
    '×apollo, ×apollo-undici, ×hive: this target divided by that one on the same workload in the same run (req/s above 1 is better; latency, RSS and CPU below 1 are better).',
    'Fixed rate: a target holds a rate when it answers all of it, correctly, at ≥ 90% of the rate over the run, with p99 under 500 ms; one that does not is not run at higher rates. Each rate is first run unmeasured for the warm-up time.',
    ...(profile?.summary
      ? ['', `### Where ${profile.target}'s CPU time goes (V8 CPU profile over the whole run, self time, idle excluded)`, '', markdownTable(['area', '% of busy time'], profile.summary.areas.map((a) => [a.name, a.percent.toFixed(1)])), '', markdownTable(['function', '% of busy time'], profile.summary.functions.map((f) => [f.name, f.percent.toFixed(1)]))]
      : []),
  ].join('\n');
}
