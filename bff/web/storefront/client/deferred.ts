/**
 * A query with `@defer` through the web BFF's `/graphql`, read part by part as the answer streams
 * (`multipart/mixed`, Apollo's `deferSpec=20220824`, read with meros): the first part at once,
 * then each deferred part by its label, so a page can show what it has while a slow part is on its way.
 */
import { meros } from 'meros/browser';
import { ApiError, type PartialError } from './api';

export interface FirstPart<T> {
  data: T | null;
  errors: PartialError[];
}

/** One deferred part as it arrives: its label, its data (null when it failed as a whole) and errors. */
export interface LaterPart {
  label: string;
  data: Record<string, unknown> | null;
  errors: PartialError[];
}

export interface DeferredAnswer<T> {
  first: FirstPart<T>;
  /** The deferred parts, in the order they arrive; ends when the answer does. */
  later: AsyncIterable<LaterPart>;
}

interface WireError {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string };
}
interface WirePart {
  data?: unknown;
  errors?: WireError[];
  incremental?: Array<{ data: Record<string, unknown> | null; label?: string; errors?: WireError[] }>;
  hasNext?: boolean;
}

const described = (errors: WireError[] | undefined): PartialError[] =>
  (errors ?? []).map((error) => ({
    message: error.message,
    path: error.path?.join('.'),
    code: error.extensions?.code,
  }));

export async function deferredQuery<T>(
  query: string,
  variables: Record<string, unknown>,
  signal: AbortSignal,
): Promise<DeferredAnswer<T>> {
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824, application/json' },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  const parts = await meros<WirePart>(readToTheEnd(response));
  if (parts instanceof Response) {
    // The whole answer at once (nothing was deferred, or a refusal before any part).
    const body = (await parts.json().catch(() => ({}))) as WirePart & { error?: { code?: string; message?: string } };
    if (!parts.ok && !body.data)
      throw new ApiError(
        parts.status,
        body.error?.code ?? 'ERROR',
        body.error?.message ?? body.errors?.[0]?.message ?? `HTTP ${parts.status}`,
      );
    return {
      first: { data: (body.data ?? null) as T | null, errors: described(body.errors) },
      later: (async function* () {})(),
    };
  }
  const opened = await parts.next();
  if (opened.done || !opened.value.json)
    throw new ApiError(502, 'BAD_ANSWER', 'the answer ended before its first part');
  const head = opened.value.body;
  return {
    first: { data: (head.data ?? null) as T | null, errors: described(head.errors) },
    later: (async function* () {
      let finished = head.hasNext === false;
      for await (const part of parts) {
        if (finished || !part.json) continue;
        for (const item of part.body.incremental ?? [])
          yield { label: item.label ?? '', data: item.data, errors: described(item.errors) };
        finished = part.body.hasNext === false;
      }
      if (finished) return;
      throw new ApiError(502, 'CUT_SHORT', 'the answer ended before its last part');
    })(),
  };
}

/**
 * The response with a body meros may stop reading: meros cancels its reader as soon as it sees the
 * closing delimiter, which can be before the last bytes of the body arrive, and Chromium then counts
 * the request as aborted. A second branch of the body reads it to its end, so the request completes.
 */
function readToTheEnd(response: Response): Response {
  if (!response.body) return response;
  const [forMeros, rest] = response.body.tee();
  void rest.pipeTo(new WritableStream()).catch(() => undefined); // the request's own failure shows on the first branch
  return new Response(forMeros, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
