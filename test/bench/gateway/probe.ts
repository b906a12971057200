/** One GraphQL request outside the load, to check a target answers a call correctly before measuring it. */
export interface ProbeAnswer {
  status: number;
  data?: unknown;
  errors?: unknown[];
}

/** Sends `body` (a serialized GraphQL request) with `headers` (the caller's `authorization`). */
export async function probe(url: string, body: string, headers: Record<string, string> = {}): Promise<ProbeAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(5000),
  });
  const answer = (await response.json()) as { data?: unknown; errors?: unknown[] };
  return { status: response.status, data: answer.data, errors: answer.errors };
}

/** Whether the answer is a clean one (HTTP 200, data, no errors), else why not. */
export function cleanData(answer: ProbeAnswer): string | Error {
  if (answer.status !== 200) return new Error(`HTTP ${answer.status}: ${JSON.stringify(answer.errors ?? [])}`);
  if (answer.errors?.length) return new Error(`GraphQL errors: ${JSON.stringify(answer.errors)}`);
  if (answer.data === undefined || answer.data === null) return new Error('no data');
  return JSON.stringify(answer.data);
}
