/**
 * The request headers of a graphql-ws connection, read from its `connectionParams` where clients
 * put them: `{ headers: { authorization, traceparent, ... } }` (what Trellis's BFFs and the kit
 * send), or the token alone at the top level, `{ authorization }` / `{ Authorization }`, as Apollo
 * Router reads it. Names are lower-cased; a value that is not a string is no header.
 */
export function connectionHeaders(params: Readonly<Record<string, unknown>> | undefined): Map<string, string | undefined> {
  const nested = params?.headers;
  const entries = nested && typeof nested === 'object' ? Object.entries(nested as Record<string, unknown>) : [];
  const headers = new Map(entries.map(([name, value]) => [name.toLowerCase(), typeof value === 'string' ? value : undefined]));
  if (headers.get('authorization') === undefined) {
    const topLevel = Object.entries(params ?? {}).find(([name, value]) => name.toLowerCase() === 'authorization' && typeof value === 'string');
    if (topLevel) headers.set('authorization', topLevel[1] as string);
  }
  return headers;
}
