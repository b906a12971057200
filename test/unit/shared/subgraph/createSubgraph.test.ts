/**
 * A subgraph made with the kit, in process on a free loopback port with the embedded backends:
 * it registers what the gateway needs, answers over HTTP and graphql-ws with stable error codes,
 * and on stop deregisters before it drains.
 */
import { createHash } from 'node:crypto';
import { parse, print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { connectBackends, type Backends } from '@trellis/kit/internal/backends';
import { loadConfig, type Config } from '@trellis/kit/internal/config';
import { BackendUnavailableError, NotFoundError } from '@trellis/kit/internal/errors';
import { createSubgraph, type Subgraph, type SubgraphOptions } from '@trellis/kit/internal/subgraph/createSubgraph';
import type { ServiceInstance } from '@trellis/kit/internal/discovery';
import { recordingLogger } from '../../../support/recordingLogger';
import { FEDERATION_LINK } from '../../../../subgraphs/federation';

const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  type Query {
    book(id: ID!): Book
    me: String @authenticated
    tenant: String
  }
  type Subscription {
    missing: Book
  }
  type Book @key(fields: "id") {
    id: ID!
    title: String!
  }
`;

const resolvers = {
  Query: {
    book: (_: unknown, { id }: { id: string }) => {
      if (id === 'gone') throw new NotFoundError(`book ${id} not found`);
      if (id === 'down') throw new BackendUnavailableError('redis', 'store unreachable');
      if (id === 'bug') throw new Error('plain failure');
      return { id, title: `Title ${id}` };
    },
    me: () => 'you',
    tenant: (_: unknown, __: unknown, context: { tenant?: string }) => context.tenant ?? null,
  },
  Subscription: {
    missing: {
      // eslint-disable-next-line require-yield
      subscribe: async function* () {
        throw new NotFoundError('no such feed');
      },
    },
  },
};

describe('createSubgraph', () => {
  let config: Config;
  let backends: Backends;
  const started: Subgraph[] = [];
  beforeEach(async () => {
    config = loadConfig({ LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '1000' });
    backends = await connectBackends(config, recordingLogger().logger);
  });
  afterEach(async () => {
    for (const subgraph of started.splice(0)) await subgraph.stop();
    await backends.close();
  });

  const start = async (options: Partial<SubgraphOptions> = {}) => {
    const subgraph = createSubgraph({
      name: 'books',
      typeDefs,
      resolvers,
      config,
      backends,
      logger: recordingLogger().logger,
      ...options,
    });
    started.push(subgraph);
    const runtime = await subgraph.start();
    return { subgraph, runtime };
  };
  const post = async (url: string, query: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: Record<string, unknown>;
        errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
      },
    };
  };
  const registered = async () => {
    let seen: ServiceInstance[] = [];
    const watch = await backends.discovery.watch((instances) => (seen = instances));
    await watch.stop();
    return seen;
  };

  it('registers itself with its URL, health URL and the meta the gateway reads, once it serves', async () => {
    const { logger, lines } = recordingLogger();
    const { subgraph, runtime } = await start({ logger, meta: { breaker_timeout_ms: '500' } });
    const port = new URL(runtime.url).port;
    expect(runtime.url).toBe(`http://127.0.0.1:${port}/graphql`);
    expect(subgraph.url).toBe(runtime.url);
    expect(subgraph.discovery).toBe(backends.discovery);
    expect(await registered()).toEqual([
      {
        id: `books-127.0.0.1-${port}`,
        name: 'books',
        url: runtime.url,
        healthy: true,
        meta: {
          subgraph: 'books',
          graphqlPath: '/graphql',
          tags: 'trellis-subgraph',
          schema_revision: createHash('sha256')
            .update(print(parse(typeDefs)))
            .digest('hex')
            .slice(0, 32),
          breaker_timeout_ms: '500',
        },
      },
    ]);
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'subgraph books serving', url: runtime.url, guardedFields: 1 }),
    );
  });

  it('answers queries over HTTP, and refuses a guarded field to an anonymous caller', async () => {
    const { runtime } = await start();
    expect((await post(runtime.url, '{ book(id: "b1") { title } }')).body).toEqual({
      data: { book: { title: 'Title b1' } },
    });
    const refused = await post(runtime.url, '{ me }');
    expect(refused.body.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it("keeps a resolver's Trellis error code, and says when a retry may work, never with a stack trace", async () => {
    const { runtime } = await start();
    const { body } = await post(
      runtime.url,
      '{ gone: book(id: "gone") { id } down: book(id: "down") { id } bug: book(id: "bug") { id } }',
    );
    const byPath = Object.fromEntries(
      (body.errors ?? []).map((error) => [(error as { path?: string[] }).path?.[0], error.extensions]),
    );
    expect(byPath.gone).toEqual({ code: 'NOT_FOUND' });
    expect(byPath.down).toEqual({ code: 'BACKEND_UNAVAILABLE', retriable: true });
    expect(byPath.bug).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('serves introspection outside production only', async () => {
    const { runtime } = await start();
    expect((await post(runtime.url, '{ __schema { queryType { name } } }')).body.data).toEqual({
      __schema: { queryType: { name: 'Query' } },
    });
    const production = await start({ config: loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'production' }) });
    expect(
      (await post(production.runtime.url, '{ __schema { queryType { name } } }')).body.errors?.[0].extensions?.code,
    ).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it("builds each request's context with the subgraph's identity resolver and context extension", async () => {
    const { runtime } = await start({
      identify: (header) => (header('x-test-user') ? { id: header('x-test-user')!, scopes: [] } : null),
      context: (base) => ({ ...base, tenant: `tenant of ${base.user?.id ?? 'nobody'}` }),
    });
    expect((await post(runtime.url, '{ me tenant }', { 'x-test-user': 'u1' })).body).toEqual({
      data: { me: 'you', tenant: 'tenant of u1' },
    });
  });

  it('answers over graphql-ws on the same path, with the same error codes', async () => {
    const { runtime } = await start();
    const client = createClient({
      url: runtime.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
    try {
      const query = (source: string) =>
        new Promise<{ results: unknown[]; errors?: unknown }>((resolve) => {
          const results: unknown[] = [];
          client.subscribe(
            { query: source },
            {
              next: (result) => results.push(result),
              error: (errors) => resolve({ results, errors }),
              complete: () => resolve({ results }),
            },
          );
        });
      expect(await query('{ book(id: "b2") { title } }')).toEqual({
        results: [{ data: { book: { title: 'Title b2' } } }],
      });
      const gone = (await query('{ book(id: "gone") { id } }')).results as Array<{
        errors: Array<{ extensions: unknown }>;
      }>;
      expect(gone[0].errors.map((error) => error.extensions)).toEqual([{ code: 'NOT_FOUND' }]);
      // An error thrown by the event stream ends the subscription with an error message, its code kept.
      expect(await query('subscription { missing { id } }')).toEqual({
        results: [],
        errors: [{ message: 'no such feed', extensions: { code: 'NOT_FOUND' } }],
      });
    } finally {
      await client.dispose();
    }
  });

  it('runs onStart once it listens, before registering, and on stop deregisters, drains, then runs onStop', async () => {
    const steps: string[] = [];
    const { subgraph, runtime } = await start({
      onStart: async (given) => {
        steps.push(`start ${given.name} registered=${(await registered()).length}`);
      },
      onStop: async () => {
        steps.push(`stop registered=${(await registered()).length}`);
      },
    });
    expect(runtime.name).toBe('books');
    await subgraph.stop();
    expect(steps).toEqual(['start books registered=0', 'stop registered=0']);
    expect(() => subgraph.url).toThrow('subgraph books is not started');
    expect(() => subgraph.discovery).toThrow('subgraph books is not started');
    await subgraph.stop();
    await expect(fetch(runtime.url, { method: 'POST' })).rejects.toThrow();
  });

  it('goes on stopping when deregistration fails, and says so', async () => {
    const { logger, lines } = recordingLogger();
    const { subgraph, runtime } = await start({ logger });
    backends.discovery.deregister = async () => {
      throw new Error('consul down');
    };
    await expect(subgraph.stop()).resolves.toBeUndefined();
    await expect(fetch(runtime.url, { method: 'POST' })).rejects.toThrow();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'deregistration failed; the health check will drop this instance',
      }),
    );
  });

  it('closes the backends it connected itself, and leaves those it was given', async () => {
    const own = createSubgraph({ name: 'books', typeDefs, resolvers, config, logger: recordingLogger().logger });
    await own.start();
    const ownBackends = own.discovery;
    await own.stop();
    await expect(ownBackends.watch(() => undefined)).resolves.toBeDefined();
    const { subgraph } = await start();
    await subgraph.stop();
    expect(await registered()).toEqual([]);
  });
});
