/** Reads a subgraph's SDL through the federation `_service { sdl }` field. */
import { TrellisError, ErrorCode } from '@trellis/kit';

export async function fetchSubgraphSdl(url: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query: 'query TrellisSubgraphSdl { _service { sdl } }' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new TrellisError(ErrorCode.SUBGRAPH_UNAVAILABLE, `cannot fetch SDL from ${url}: ${(error as Error).message}`, {
      retriable: true,
      cause: error,
    });
  }
  const body = (await response.json().catch(() => null)) as { data?: { _service?: { sdl?: string } } } | null;
  const sdl = body?.data?._service?.sdl;
  if (!response.ok || typeof sdl !== 'string') {
    throw new TrellisError(ErrorCode.SUBGRAPH_UNAVAILABLE, `${url} answered ${response.status} without an SDL`, { retriable: true });
  }
  return sdl;
}
