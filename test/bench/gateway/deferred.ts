/**
 * The deferred shape (issue 32): the four-subgraph order history with everything but the user's
 * name deferred, streamed as `multipart/mixed;deferSpec=20220824`: the time to its first part and
 * to its last, against the time to the answer of the same query without @defer. Sequential calls,
 * alternating the two forms, each checked: the parts merged must be the whole answer's data.
 */
import { performance } from 'node:perf_hooks';
import { multipartParts } from '../../support/multipartParts';
import { ORDER_HISTORY, canonical, type Call } from './operations';

export const DEFERRED_DOCUMENT =
  'query OrderHistoryDeferred($id: ID!) { user(id: $id) { name ... @defer(label: "orders") { orders { total status items { quantity product { name inStock } } payment { state } } } } }';
const ACCEPT = 'multipart/mixed;deferSpec=20220824, application/json';

export interface DeferredRow {
  target: string;
  calls?: number;
  /** p50 / p99, ms: the deferred query's first part, its last part, and the whole answer without @defer. */
  first?: [number, number];
  last?: [number, number];
  whole?: [number, number];
  failures?: number;
  note?: string;
}

type Json = Record<string, unknown>;

/** `calls` of the four-subgraph history (their users and variables), each sent deferred and whole. */
export async function measureDeferred(
  target: string,
  url: string,
  calls: Call[],
  authorization: (call: Call) => string,
): Promise<DeferredRow> {
  const first: number[] = [];
  const last: number[] = [];
  const whole: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  for (const call of calls.filter((c) => c.operation === ORDER_HISTORY)) {
    const headers = { 'content-type': 'application/json', authorization: authorization(call) };
    try {
      const wholeStart = performance.now();
      const plain = await fetch(url, {
        method: 'POST',
        headers: { ...headers, accept: 'application/json' },
        body: call.body,
      });
      const expected = ((await plain.json()) as { data?: Json }).data;
      whole.push(performance.now() - wholeStart);

      const start = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...headers, accept: ACCEPT },
        body: JSON.stringify({
          query: DEFERRED_DOCUMENT,
          operationName: 'OrderHistoryDeferred',
          variables: call.variables,
        }),
      });
      if (!(response.headers.get('content-type') ?? '').startsWith('multipart/mixed'))
        throw new Error(`not streamed: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
      let merged: Json | undefined;
      for await (const part of multipartParts(response)) {
        const payload = part as { data?: Json; incremental?: Array<{ data: Json; path: string[] }> };
        if (!merged) {
          first.push(performance.now() - start);
          merged = payload.data;
        }
        for (const { data, path } of payload.incremental ?? [])
          Object.assign(
            path.reduce<Json>((at, key) => at[key] as Json, merged!),
            data,
          );
      }
      last.push(performance.now() - start);
      if (canonical(merged) !== canonical(expected))
        throw new Error(
          `parts merged ${canonical(merged).slice(0, 120)} differ from the whole ${canonical(expected).slice(0, 120)}`,
        );
    } catch (error) {
      failures++;
      firstFailure ??= (error as Error).message;
    }
  }
  if (first.length === 0) return { target, note: `n/a: ${firstFailure ?? 'no call'}` };
  return {
    target,
    calls: first.length,
    first: percentiles(first),
    last: percentiles(last),
    whole: percentiles(whole),
    failures,
    ...(firstFailure ? { note: firstFailure } : {}),
  };
}

function percentiles(samples: number[]): [number, number] {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2));
  return [at(0.5), at(0.99)];
}

export function deferredTable(rows: DeferredRow[]): string {
  const cell = (pair?: [number, number]) => (pair ? `${pair[0]} / ${pair[1]}` : '');
  return [
    '### Deferred shape (`@defer`, deferSpec=20220824)',
    '',
    '`OrderHistory` with the orders deferred (`user { name ... @defer { orders { … } } }`), sequential calls of the four-subgraph workload; ms, p50 / p99.',
    '',
    '| target | calls | first part | last part | same query without @defer | failures | note |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (row) =>
        `| ${row.target} | ${row.calls ?? ''} | ${cell(row.first)} | ${cell(row.last)} | ${cell(row.whole)} | ${row.failures ?? ''} | ${row.note ?? ''} |`,
    ),
    '',
  ].join('\n');
}
