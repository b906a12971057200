/** Fixed-connection, fixed-duration load with autocannon: a warm-up run, then the measured one. */
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  query: string;
  /** Sent with every request besides content-type (the caller's `authorization`). */
  headers: Record<string, string>;
  /** A substring every good response contains. */
  marker: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses counted by autocannon in the measured run. */
  responses: number;
  /** Non-2xx answers, bodies with errors or without the marker, connection errors and timeouts. */
  failures: number;
}

function run(options: LoadOptions, durationSeconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: options.url,
    method: 'POST',
    headers: { ...options.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ query: options.query }),
    connections: options.connections,
    duration: durationSeconds,
    verifyBody: (body) => typeof body === 'string' && body.includes(options.marker) && !body.includes('"errors"'),
  });
}

/** Unmeasured load, so JIT, caches and keep-alive pools are warm before the measured run. */
export async function warmUp(options: LoadOptions): Promise<void> {
  await run(options, options.warmupSeconds);
}

export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await run(options, options.durationSeconds);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    responses: result.requests.total,
    failures: result.non2xx + result.mismatches + result.errors + result.timeouts,
  };
}
