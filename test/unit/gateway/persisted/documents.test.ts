/** A persisted query on graphql-ws and SSE resolves as Apollo Server resolves it on HTTP. */
import { resolvePersistedQuery, sha256, type PersistedDocuments } from '../../../../gateway/persisted';

function store(initial: Record<string, string> = {}) {
  const documents = new Map(Object.entries(initial));
  const registered: Array<[string, string]> = [];
  const port: PersistedDocuments = {
    lookup: async (hash) => documents.get(hash),
    register: async (hash, query) => void registered.push([hash, query]),
  };
  return { port, registered };
}

const query = '{ product(id: "p5") { name } }';
const persisted = (sha256Hash: unknown, version: unknown = 1) => ({ persistedQuery: { version, sha256Hash } });

describe('resolvePersistedQuery', () => {
  it('runs the query sent when there is no persisted query, registering nothing', async () => {
    const { port, registered } = store();
    await expect(resolvePersistedQuery({ query }, port)).resolves.toStrictEqual({ query });
    await expect(resolvePersistedQuery({ query: null, extensions: {} }, port)).resolves.toStrictEqual({ query: '' });
    expect(registered).toEqual([]);
  });

  it('runs the stored document for a hash sent alone (no query, or an empty one)', async () => {
    const { port } = store({ [sha256(query)]: query });
    // Already stored: nothing to register.
    await expect(resolvePersistedQuery({ extensions: persisted(sha256(query)) }, port)).resolves.toStrictEqual({ query });
    await expect(resolvePersistedQuery({ query: '', extensions: persisted(sha256(query)) }, port)).resolves.toStrictEqual({ query });
  });

  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND', async () => {
    const { port } = store();
    await expect(resolvePersistedQuery({ extensions: persisted(sha256(query)) }, port)).rejects.toMatchObject({
      message: 'PersistedQueryNotFound',
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
  });

  it('runs a query sent with its own hash, and registers it only when told to (after the checks), never before', async () => {
    const { port, registered } = store();
    const resolved = await resolvePersistedQuery({ query, extensions: persisted(sha256(query)) }, port);
    expect(resolved.query).toBe(query);
    expect(registered).toEqual([]);
    await resolved.register!();
    expect(registered).toEqual([[sha256(query), query]]);
  });

  it('refuses a query sent with another hash, registering nothing (a hash is never taken over)', async () => {
    const { port, registered } = store();
    await expect(resolvePersistedQuery({ query: '{ users { email } }', extensions: persisted(sha256(query)) }, port)).rejects.toMatchObject({
      message: 'provided sha does not match query',
      extensions: { code: 'BAD_REQUEST' },
    });
    expect(registered).toEqual([]);
  });

  it.each([
    ['version 2', persisted(sha256(query), 2), 'Unsupported persisted query version'],
    ['no version', { persistedQuery: { sha256Hash: sha256(query) } }, 'Unsupported persisted query version'],
    ['no hash', persisted(undefined), 'persistedQuery.sha256Hash must be a non-empty string'],
    ['an empty hash', persisted(''), 'persistedQuery.sha256Hash must be a non-empty string'],
    ['a number for a hash', persisted(42), 'persistedQuery.sha256Hash must be a non-empty string'],
  ])('refuses %s with BAD_REQUEST', async (_what, extensions, message) => {
    const { port } = store({ [sha256(query)]: query });
    await expect(resolvePersistedQuery({ extensions }, port)).rejects.toMatchObject({ message, extensions: { code: 'BAD_REQUEST' } });
  });
});
