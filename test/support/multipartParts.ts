/**
 * Reads a `multipart/mixed` answer (multipart subscriptions, @defer) part by part as it arrives,
 * strictly: the boundary from the answer's Content-Type, every part's JSON, and a failure when the
 * body ends before its closing delimiter (a stream cut short, which a client must see as an error).
 */
export async function* multipartParts(response: Response): AsyncGenerator<unknown> {
  const boundary = /;\s*boundary="?([^";]+)"?/i.exec(response.headers.get('content-type') ?? '')?.[1];
  if (!boundary || !response.body) throw new Error(`not a multipart answer: ${response.headers.get('content-type')}`);
  const delimiter = `\r\n--${boundary}`;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let preamble = true;
  try {
    for (;;) {
      const at = buffer.indexOf(delimiter);
      if (at !== -1) {
        const part = buffer.slice(0, at);
        buffer = buffer.slice(at + delimiter.length);
        if (!preamble) yield parsePart(part);
        preamble = false;
        continue;
      }
      // What follows a delimiter is a part (it starts with its headers' CRLF) or `--`, the end.
      if (!preamble && buffer.startsWith('--')) return;
      const { value, done } = await reader.read();
      if (done) throw new Error(`multipart body ended before its closing delimiter (left: ${JSON.stringify(buffer)})`);
      buffer += value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function parsePart(part: string): unknown {
  const split = part.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`multipart part without headers: ${JSON.stringify(part)}`);
  const headers = part.slice(0, split).toLowerCase();
  if (!headers.includes('content-type: application/json'))
    throw new Error(`multipart part that is not JSON: ${JSON.stringify(headers)}`);
  return JSON.parse(part.slice(split + 4));
}

/** Every part up to the closing delimiter (fails on a body cut short). */
export async function allMultipartParts(response: Response): Promise<unknown[]> {
  const parts: unknown[] = [];
  for await (const part of multipartParts(response)) parts.push(part);
  return parts;
}

/** What Apollo Client 4 sends for a subscription (BaseHttpLink): multipart subscriptions first, then the JSON types. */
export const MULTIPART_SUBSCRIPTION_ACCEPT =
  'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9';

/** Sends an operation over POST asking for a multipart answer (by default as Apollo Client asks for a subscription); the response, unread. */
export function postGraphQLMultipart(
  url: string,
  query: string | undefined,
  options: {
    variables?: Record<string, unknown>;
    extensions?: Record<string, unknown>;
    headers?: Record<string, string>;
    accept?: string;
    signal?: AbortSignal;
  } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...(options.headers ?? {}),
      'content-type': 'application/json',
      accept: options.accept ?? MULTIPART_SUBSCRIPTION_ACCEPT,
    },
    body: JSON.stringify({ query, variables: options.variables, extensions: options.extensions }),
    signal: options.signal ?? AbortSignal.timeout(60_000),
  });
}

/** A heartbeat: an empty part. */
export const isHeartbeat = (part: unknown): boolean =>
  typeof part === 'object' && part !== null && Object.keys(part).length === 0;
