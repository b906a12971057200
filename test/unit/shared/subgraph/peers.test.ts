/**
 * peerSubgraphs: a subgraph asking another one directly calls the healthy instances of that name
 * that the allow-list trusts (every trusted one when none is healthy), in turn, with the caller's headers, through
 * the guard; with none to call, or discovery silent past the deadline, it fails fast with a retriable
 * SUBGRAPH_UNAVAILABLE.
 */
import { createGuard, ErrorCode, peerSubgraphs } from '@trellis/kit';
import type { Discovery, ServiceInstance } from '@trellis/kit/internal/discovery';
import { loadConfig } from '@trellis/kit/internal/config';

const config = (env: Record<string, string> = {}) => loadConfig({ LOG_LEVEL: 'silent', ...env });

/** A discovery port the test reports sets through; `watching` counts open watches. */
function scriptedDiscovery() {
  let listener: ((instances: ServiceInstance[]) => void) | undefined;
  const discovery = {
    watching: 0,
    report: (instances: ServiceInstance[]) => listener?.(instances),
    register: async () => undefined,
    deregister: async () => undefined,
    close: async () => undefined,
    watch: async (onChange: (instances: ServiceInstance[]) => void) => {
      listener = onChange;
      discovery.watching += 1;
      return { stop: async () => void (discovery.watching -= 1) };
    },
  };
  return discovery;
}

const instance = (name: string, url: string, healthy = true): ServiceInstance => ({ id: `${name}-${url}`, name, url, meta: {}, healthy });

/** A fetch that answers `{ data: { from: <url> } }` (or `status`) and records what it was sent. */
function recordingFetch(status = 200) {
  const calls: Array<{ url: string; headers: Record<string, string>; body: unknown }> = [];
  const send = (async (url: string, init: RequestInit) => {
    calls.push({ url, headers: init.headers as Record<string, string>, body: JSON.parse(init.body as string) });
    return new Response(JSON.stringify({ data: { from: url } }), { status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
  return { calls, send };
}

describe('peerSubgraphs', () => {
  it('calls the healthy instances of the name in turn, with the query, variables and the caller’s headers', async () => {
    const discovery = scriptedDiscovery();
    const { calls, send } = recordingFetch();
    const peers = peerSubgraphs({ discovery: discovery as unknown as Discovery, guard: createGuard(), config: config(), fetch: send });
    const asking = peers.query('catalog', 'query ($id: ID!) { product(id: $id) { id } }', { id: 'p1' }, { authorization: 'Bearer t', 'x-correlation-id': 'c1' });
    discovery.report([instance('catalog', 'http://a/graphql'), instance('catalog', 'http://b/graphql', false), instance('orders', 'http://o/graphql'), instance('catalog', 'http://c/graphql')]);
    const first = await asking;
    const second = await peers.query('catalog', '{ products { id } }', {});
    const third = await peers.query('catalog', '{ products { id } }', {});

    expect([first, second, third].map((answer) => answer.data)).toEqual([{ from: 'http://a/graphql' }, { from: 'http://c/graphql' }, { from: 'http://a/graphql' }]);
    expect(calls[0].body).toEqual({ query: 'query ($id: ID!) { product(id: $id) { id } }', variables: { id: 'p1' } });
    expect(calls[0].headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer t', 'x-correlation-id': 'c1' });
    expect(discovery.watching).toBe(1);
    await peers.close();
    expect(discovery.watching).toBe(0);
  });

  it('never calls an instance the allow-list refuses', async () => {
    const discovery = scriptedDiscovery();
    const { calls, send } = recordingFetch();
    const peers = peerSubgraphs({ discovery: discovery as unknown as Discovery, guard: createGuard(), fetch: send, config: config({ SUBGRAPH_ALLOW: 'catalog@10.0.0.0/8' }) });
    const asking = peers.query('catalog', '{ products { id } }', {});
    discovery.report([instance('catalog', 'http://127.0.0.1:4002/graphql'), instance('catalog', 'http://10.1.2.3:4002/graphql')]);
    expect((await asking).data).toEqual({ from: 'http://10.1.2.3:4002/graphql' });
    expect(await peers.query('catalog', '{ products { id } }', {})).toEqual({ data: { from: 'http://10.1.2.3:4002/graphql' } });
    expect(calls.map((call) => call.url)).toEqual(['http://10.1.2.3:4002/graphql', 'http://10.1.2.3:4002/graphql']);
  });

  it('with no instance to call, refuses at once with a retriable SUBGRAPH_UNAVAILABLE and sends nothing', async () => {
    const discovery = scriptedDiscovery();
    const { calls, send } = recordingFetch();
    const peers = peerSubgraphs({ discovery: discovery as unknown as Discovery, guard: createGuard(), fetch: send, config: config({ SUBGRAPH_ALLOW: 'catalog@10.0.0.0/8' }) });
    const asking = peers.query('catalog', '{ products { id } }', {});
    discovery.report([instance('catalog', 'http://127.0.0.1:4002/graphql'), instance('orders', 'http://10.0.0.8/graphql')]);
    await expect(asking).rejects.toMatchObject({ code: ErrorCode.SUBGRAPH_UNAVAILABLE, retriable: true, message: 'no instance of subgraph catalog that SUBGRAPH_ALLOW trusts (1 refused)' });
    discovery.report([instance('orders', 'http://10.0.0.8/graphql')]);
    await expect(peers.query('catalog', '{ products { id } }', {})).rejects.toMatchObject({ message: 'no instance of subgraph catalog is registered' });
    expect(calls).toEqual([]);
  });

  it('with no healthy trusted instance, calls the trusted ones failing their checks in turn (a missed check is not a dead peer)', async () => {
    const discovery = scriptedDiscovery();
    const { calls, send } = recordingFetch();
    const peers = peerSubgraphs({ discovery: discovery as unknown as Discovery, guard: createGuard(), fetch: send, config: config({ SUBGRAPH_ALLOW: 'catalog@10.0.0.0/8' }) });
    const asking = peers.query('catalog', '{ products { id } }', {});
    discovery.report([instance('catalog', 'http://127.0.0.1:4002/graphql'), instance('catalog', 'http://10.0.0.9/graphql', false), instance('catalog', 'http://10.0.0.7/graphql', false)]);
    expect((await asking).data).toEqual({ from: 'http://10.0.0.9/graphql' });
    expect((await peers.query('catalog', '{ products { id } }', {})).data).toEqual({ from: 'http://10.0.0.7/graphql' });
    // One healthy again: only it is called.
    discovery.report([instance('catalog', 'http://10.0.0.9/graphql', false), instance('catalog', 'http://10.0.0.7/graphql')]);
    await peers.query('catalog', '{ products { id } }', {});
    await peers.query('catalog', '{ products { id } }', {});
    expect(calls.map((call) => call.url)).toEqual(['http://10.0.0.9/graphql', 'http://10.0.0.7/graphql', 'http://10.0.0.7/graphql', 'http://10.0.0.7/graphql']);
  });

  it('gives up on a discovery that never reports after one call’s deadline', async () => {
    const discovery = scriptedDiscovery();
    const { calls, send } = recordingFetch();
    const peers = peerSubgraphs({ discovery: discovery as unknown as Discovery, guard: createGuard(), config: config(), fetch: send, timeoutMs: 50 });
    await expect(peers.query('catalog', '{ products { id } }', {})).rejects.toMatchObject({ code: ErrorCode.SUBGRAPH_UNAVAILABLE, message: 'no instance of subgraph catalog is registered' });
    expect(calls).toEqual([]);
  });

  it('counts a 5xx as the peer failing (the guard’s breaker sees it), and passes a 4xx answer on as it came', async () => {
    const discovery = scriptedDiscovery();
    const failing = recordingFetch(503);
    const peers = peerSubgraphs({ discovery: discovery as unknown as Discovery, guard: createGuard(), config: config(), fetch: failing.send });
    const asking = peers.query('catalog', '{ products { id } }', {});
    discovery.report([instance('catalog', 'http://a/graphql')]);
    await expect(asking).rejects.toMatchObject({ code: ErrorCode.BACKEND_UNAVAILABLE, message: expect.stringContaining('catalog answered 503') });

    const refusing = recordingFetch(400);
    const strict = peerSubgraphs({ discovery: discovery as unknown as Discovery, guard: createGuard(), config: config(), fetch: refusing.send });
    const answered = strict.query('catalog', '{ nope }', {});
    discovery.report([instance('catalog', 'http://a/graphql')]);
    expect(await answered).toEqual({ data: { from: 'http://a/graphql' } });
  });

  it('refuses to be made in production on Consul with no allow-list, naming SUBGRAPH_ALLOW and the opt-out', () => {
    const discovery = scriptedDiscovery() as unknown as Discovery;
    const production = { NODE_ENV: 'production', CONSUL_HTTP_ADDR: 'http://127.0.0.1:8500' };
    expect(() => peerSubgraphs({ discovery, guard: createGuard(), config: config(production) })).toThrow(
      /refuses to start unsafe:\n {2}- asking peer subgraphs on Consul with no allow-list: .* set SUBGRAPH_ALLOW \(or TRELLIS_ALLOW_ANY_SUBGRAPH=true to accept it\)/,
    );
    expect(() => peerSubgraphs({ discovery, guard: createGuard(), config: config({ ...production, SUBGRAPH_ALLOW: 'catalog' }) })).not.toThrow();
    expect(() => peerSubgraphs({ discovery, guard: createGuard(), config: config({ ...production, TRELLIS_ALLOW_ANY_SUBGRAPH: 'true' }) })).not.toThrow();
    expect(() => peerSubgraphs({ discovery, guard: createGuard(), config: config({ NODE_ENV: 'production' }) })).not.toThrow();
  });
});
