/** The results table: one row per target and query, with ratios against apollo and direct. */
import type { LoadResult } from './load';
import type { ProcessUsage } from './usage';

export interface BenchRow {
  target: string;
  query: string;
  load?: LoadResult;
  /** Of the gateway process; none for direct. */
  usage?: ProcessUsage;
  /** Of the process running all four subgraphs. */
  subgraphUsage?: ProcessUsage;
  /** Why there is no measurement (n/a), or a warning about this one. */
  note?: string;
}

const HEADER = ['target', 'query', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'CPU µs/req', 'subgraphs CPU µs/req', 'req/s ×apollo', 'p50 ×apollo', 'p99 ×apollo', 'RSS ×apollo', 'CPU ×apollo', 'req/s ×direct', 'note'];

export const fixed = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
export const ratio = (value: number | undefined, base: number | undefined) => (value === undefined || !base ? '–' : `${(value / base).toFixed(2)}×`);

/** Gateway CPU time per request served, µs. */
function cpuPerRequest({ load, usage }: BenchRow): number | undefined {
  return load && usage && load.responses > 0 ? (usage.cpuMs * 1000) / load.responses : undefined;
}

function cells(row: BenchRow, apollo: BenchRow | undefined, direct: BenchRow | undefined): string[] {
  const { load, usage } = row;
  const perRequest = (spent?: ProcessUsage) => cpuPerRequest({ ...row, usage: spent });
  const vsApollo = (value: number | undefined, base: number | undefined) => (row.target === 'apollo' ? ratio(value, value) : ratio(value, base));
  return [
    row.target,
    row.query,
    fixed(load?.requestsPerSecond, 0),
    fixed(load?.p50Ms, 1),
    fixed(load?.p99Ms, 1),
    fixed(usage?.peakRssMb, 0),
    fixed(perRequest(usage), 0),
    fixed(perRequest(row.subgraphUsage), 0),
    vsApollo(load?.requestsPerSecond, apollo?.load?.requestsPerSecond),
    vsApollo(load?.p50Ms, apollo?.load?.p50Ms),
    vsApollo(load?.p99Ms, apollo?.load?.p99Ms),
    vsApollo(usage?.peakRssMb, apollo?.usage?.peakRssMb),
    vsApollo(perRequest(usage), apollo && cpuPerRequest(apollo)),
    ratio(load?.requestsPerSecond, direct?.load?.requestsPerSecond),
    row.note ?? (load && load.failures > 0 ? `${load.failures} failed responses` : ''),
  ];
}

/** A Markdown table with padded columns, readable as plain text too. */
export function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((line) => line[column].length)));
  const line = (values: string[]) => `| ${values.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

/** The gateway results table. */
export function renderTable(rows: BenchRow[]): string {
  const find = (target: string, query: string) => rows.find((row) => row.target === target && row.query === query);
  return markdownTable(HEADER, rows.map((row) => cells(row, find('apollo', row.query), find('direct', row.query))));
}
