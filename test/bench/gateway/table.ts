/** The results tables: closed-loop rows per target and workload, fixed-rate rows per target and rate, with ratios against apollo. */
import type { LoadResult } from './load';
import type { FixedRateResult } from './fixedRate';
import type { ProcessUsage } from './usage';

export interface BenchRow {
  target: string;
  /** The workload (query shape, or `mix`). */
  query: string;
  load?: LoadResult;
  /** Of the gateway process; none for direct. */
  usage?: ProcessUsage;
  /** Of the process running all four subgraphs. */
  subgraphUsage?: ProcessUsage;
  /** Why there is no measurement (n/a), or a warning about this one. */
  note?: string;
}

export interface RateRow {
  target: string;
  rate: number;
  result?: FixedRateResult;
  usage?: ProcessUsage;
  /** Whether the target held this rate (see fixedRate.ts `holds`). */
  held?: boolean;
  note?: string;
}

const HEADER = [
  'target', 'query', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'CPU µs/req', 'subgraphs CPU µs/req',
  'req/s ×apollo', 'req/s ×apollo-undici', 'req/s ×hive', 'p99 ×apollo', 'RSS ×apollo', 'CPU ×apollo', 'req/s ×direct', 'note',
];

export const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
export const ratio = (value: number | undefined, base: number | undefined) => (value === undefined || !base ? '–' : `${(value / base).toFixed(2)}×`);

/** CPU time per request served, µs. */
function perRequest(responses: number | undefined, usage: ProcessUsage | undefined): number | undefined {
  return responses && usage ? (usage.cpuMs * 1000) / responses : undefined;
}

function note(row: BenchRow): string {
  const load = row.load;
  const parts = [
    load && load.partialAsExpected > 0 ? `${((100 * load.partialAsExpected) / Math.max(1, load.responses)).toFixed(0)}% partial as expected` : undefined,
    load && load.failures > 0 ? `${load.failures} failed responses (first: ${load.firstWrong ?? 'connection error or timeout'})` : undefined,
    row.note,
  ];
  return parts.filter(Boolean).join('; ');
}

function cells(row: BenchRow, find: (target: string) => BenchRow | undefined): string[] {
  const { load, usage } = row;
  const apollo = find('apollo');
  const cpu = perRequest(load?.responses, usage);
  const versus = (base: BenchRow | undefined, value: number | undefined, baseValue: number | undefined) => (base === row ? '1.00×' : ratio(value, baseValue));
  return [
    row.target,
    row.query,
    fixed(load?.requestsPerSecond, 0),
    fixed(load?.p50Ms, 1),
    fixed(load?.p99Ms, 1),
    fixed(usage?.peakRssMb, 0),
    fixed(cpu, 0),
    fixed(perRequest(load?.responses, row.subgraphUsage), 0),
    versus(apollo, load?.requestsPerSecond, apollo?.load?.requestsPerSecond),
    versus(find('apollo-undici'), load?.requestsPerSecond, find('apollo-undici')?.load?.requestsPerSecond),
    versus(find('hive'), load?.requestsPerSecond, find('hive')?.load?.requestsPerSecond),
    versus(apollo, load?.p99Ms, apollo?.load?.p99Ms),
    versus(apollo, usage?.peakRssMb, apollo?.usage?.peakRssMb),
    versus(apollo, cpu, apollo && perRequest(apollo.load?.responses, apollo.usage)),
    ratio(load?.requestsPerSecond, find('direct')?.load?.requestsPerSecond),
    note(row),
  ];
}

/** A Markdown table with padded columns, readable as plain text too. */
export function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((line) => line[column].length)));
  const line = (values: string[]) => `| ${values.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

/** One closed-loop table (the rows of one run: realistic or repeated), grouped by workload. */
export function renderTable(rows: BenchRow[]): string {
  const workloads = [...new Set(rows.map((row) => row.query))];
  const ordered = workloads.flatMap((query) => rows.filter((row) => row.query === query));
  return markdownTable(HEADER, ordered.map((row) => cells(row, (target) => rows.find((other) => other.target === target && other.query === row.query && other.load))));
}

const RATE_HEADER = ['rate /s', 'target', 'answered /s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'RSS MB', 'CPU µs/req', 'p99 ×apollo', 'CPU ×apollo', 'held', 'note'];

/** The fixed-rate table, one block per rate; a target that did not hold a rate is not run at higher ones. */
export function renderRateTable(rows: RateRow[]): string {
  const body = rows.map((row) => {
    const { result, usage } = row;
    const apollo = rows.find((other) => other.target === 'apollo' && other.rate === row.rate && other.result);
    const cpu = perRequest(result?.responses, usage);
    const isApollo = apollo === row;
    const issues = [
      result && result.partialAsExpected > 0 ? `${((100 * result.partialAsExpected) / Math.max(1, result.responses)).toFixed(0)}% partial as expected` : undefined,
      result && result.failures > 0 ? `${result.failures} failed (first: ${result.firstWrong})` : undefined,
      result && result.unanswered > 0 ? `${result.unanswered} unanswered` : undefined,
      result && result.sendLagP99Ms > 10 ? `generator sent late by up to ${result.sendLagP99Ms.toFixed(0)} ms (p99; in the latencies)` : undefined,
      row.note,
    ];
    return [
      String(row.rate),
      row.target,
      fixed(result?.achievedPerSecond, 0),
      fixed(result?.p50Ms, 1),
      fixed(result?.p99Ms, 1),
      fixed(result?.p999Ms, 1),
      fixed(usage?.peakRssMb, 0),
      fixed(cpu, 0),
      isApollo ? '1.00×' : ratio(result?.p99Ms, apollo?.result?.p99Ms),
      isApollo ? '1.00×' : ratio(cpu, apollo && perRequest(apollo.result?.responses, apollo.usage)),
      row.held === undefined ? '–' : row.held ? 'yes' : 'no',
      issues.filter(Boolean).join('; '),
    ];
  });
  return markdownTable(RATE_HEADER, body);
}

const TRACING_TARGETS = ['trellis', 'trellis-otel', 'trellis-otel10'];
const TRACING_HEADER = ['query', 'target', 'req/s', 'p99 ms', 'CPU µs/req', 'req/s ×trellis', 'CPU µs/req ×trellis', 'CPU µs/req +trellis'];

/** Tracing off (`trellis`) beside tracing on at 100% and 10% sampling, per workload of one run; empty when the run has neither pair. */
export function renderTracingTable(rows: BenchRow[]): string | undefined {
  const measured = rows.filter((row) => TRACING_TARGETS.includes(row.target) && row.load);
  if (!measured.some((row) => row.target === 'trellis') || !measured.some((row) => row.target !== 'trellis')) return undefined;
  const workloads = [...new Set(measured.map((row) => row.query))];
  const body = workloads.flatMap((query) => {
    const off = measured.find((row) => row.query === query && row.target === 'trellis');
    const offCpu = off && perRequest(off.load?.responses, off.usage);
    return TRACING_TARGETS.flatMap((target) => {
      const row = measured.find((candidate) => candidate.query === query && candidate.target === target);
      if (!row) return [];
      const cpu = perRequest(row.load?.responses, row.usage);
      return [[query, target, fixed(row.load?.requestsPerSecond, 0), fixed(row.load?.p99Ms, 1), fixed(cpu, 0), ratio(row.load?.requestsPerSecond, off?.load?.requestsPerSecond), ratio(cpu, offCpu), cpu === undefined || offCpu === undefined ? '–' : `${cpu - offCpu >= 0 ? '+' : ''}${(cpu - offCpu).toFixed(0)}`]];
    });
  });
  return markdownTable(TRACING_HEADER, body);
}
