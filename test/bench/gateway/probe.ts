/** One GraphQL request outside the load, to check a target answers a query correctly before measuring it. */
export interface ProbeAnswer {
  status: number;
  data?: unknown;
  errors?: unknown[];
}

/** `headers` go with the request (the bench's `authorization`, the same on every request to every target). */
export async function probe(url: string, query: string, headers: Record<string, string> = {}): Promise<ProbeAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
  return { status: response.status, data: body.data, errors: body.errors };
}

/** The answer's data as a canonical string, or an Error saying why the answer is not a clean one. */
export function cleanData(answer: ProbeAnswer): string | Error {
  if (answer.status !== 200) return new Error(`HTTP ${answer.status}: ${JSON.stringify(answer.errors ?? [])}`);
  if (answer.errors?.length) return new Error(`GraphQL errors: ${JSON.stringify(answer.errors)}`);
  if (answer.data === undefined || answer.data === null) return new Error('no data');
  return JSON.stringify(answer.data);
}
