/**
 * The executor of the WebSocket and SSE transports, on a real Apollo Gateway over two kit subgraphs
 * in this process (loopback, embedded backends): the same parse, validation and checks as HTTP, and
 * subscription events from the owning subgraph resolved across the others.
 */
import { ApolloGateway } from '@apollo/gateway';
import { GraphQLError, parse, print, type ExecutionResult } from 'graphql';
import { connectBackends, type Backends } from '@trellis/kit';
import { loadConfig } from '@trellis/kit';
import { createSubgraph, type Subgraph } from '@trellis/kit';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';
import { InstanceDirectory } from '../../../../gateway/supergraph/instances';
import { FederatedExecutor, type OperationRequest } from '../../../../gateway/subscriptions/federatedExecutor';
import type { GatewayContext } from '../../../../gateway/context';
import type { GatewayHost } from '../../../../gateway/extension';
import { FEDERATION_LINK } from '../../../../subgraphs/federation';
import { recordingLogger } from '../../../support/recordingLogger';
import { recordSpans } from '../../../support/recordedSpans';

const booksTypeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  type Query {
    book(id: ID!): Book
    books: [Book!]!
  }
  type Subscription {
    bookAdded(shelf: String!): Book
  }
  type Book @key(fields: "id") {
    id: ID!
    title: String!
  }
`;
const reviewsTypeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  type Book @key(fields: "id") {
    id: ID!
    stars: Int
  }
`;

const bookOf = (id: string) => ({ id, title: `Title ${id}` });
const booksResolvers = {
  Query: { book: (_: unknown, { id }: { id: string }) => bookOf(id), books: () => [bookOf('b1'), bookOf('b2')] },
  Book: { __resolveReference: ({ id }: { id: string }) => bookOf(id) },
  Subscription: {
    bookAdded: {
      subscribe: async function* (_: unknown, { shelf }: { shelf: string }) {
        if (shelf === 'broken') throw new GraphQLError('no such shelf', { extensions: { code: 'NOT_FOUND' } });
        for (let n = 1; shelf === 'endless'; n += 1) {
          yield { bookAdded: bookOf(`endless-${n}`) };
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        yield { bookAdded: bookOf(`${shelf}-1`) };
        yield { bookAdded: bookOf(`${shelf}-2`) };
      },
    },
  },
};
const reviewsResolvers = { Book: { __resolveReference: ({ id }: { id: string }) => ({ id, stars: id.length }) } };

describe('FederatedExecutor', () => {
  let backends: Backends;
  let gateway: ApolloGateway;
  const instances = new InstanceDirectory();
  const subgraphs: Subgraph[] = [];
  const context = { correlationId: 'c-1', logger: recordingLogger().logger, forwardHeaders: {} } as GatewayContext;

  beforeAll(async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '500' });
    backends = await connectBackends(config, context.logger);
    for (const [name, typeDefs, resolvers] of [
      ['books', booksTypeDefs, booksResolvers],
      ['reviews', reviewsTypeDefs, reviewsResolvers],
    ] as const) {
      const subgraph = createSubgraph({ name, typeDefs, resolvers, config, backends, logger: context.logger });
      await subgraph.start();
      subgraphs.push(subgraph);
    }
    const composed = composeSupergraph(
      subgraphs.map((subgraph, i) => ({
        name: i === 0 ? 'books' : 'reviews',
        url: subgraph.url,
        sdl: i === 0 ? booksTypeDefs : reviewsTypeDefs,
      })),
    );
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    gateway = new ApolloGateway({ supergraphSdl: composed.supergraphSdl });
    await gateway.load();
    instances.replace(
      subgraphs.map((subgraph, i) => ({
        id: `i${i}`,
        name: i === 0 ? 'books' : 'reviews',
        url: subgraph.url,
        meta: {},
        healthy: true,
      })),
    );
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    for (const subgraph of subgraphs) await subgraph.stop();
    await backends?.close();
  });

  const all = async (stream: AsyncGenerator<ExecutionResult>) => {
    const results: ExecutionResult[] = [];
    for await (const result of stream) results.push(JSON.parse(JSON.stringify(result)) as ExecutionResult);
    return results;
  };
  const run = (executor: FederatedExecutor, request: OperationRequest, signal?: AbortSignal) =>
    all(executor.execute(request, context, signal));
  const codes = (results: ExecutionResult[]) =>
    results.map((result) => result.errors?.map((error) => [error.message, error.extensions?.code]));

  it('answers a query with the fields of every subgraph', async () => {
    const executor = new FederatedExecutor(gateway, instances);
    expect(await run(executor, { query: '{ book(id: "b1") { title stars } }' })).toEqual([
      { data: { book: { title: 'Title b1', stars: 2 } } },
    ]);
    await executor.close();
  });

  it('streams each event of a subscription from the owning subgraph, resolved across the others, with only the variables it uses', async () => {
    const executor = new FederatedExecutor(gateway, instances);
    const results = await run(executor, {
      query: 'subscription ($shelf: String!) { bookAdded(shelf: $shelf) { id title stars } }',
      variables: { shelf: 'new', other: 1 },
    });
    expect(results).toEqual([
      { data: { bookAdded: { id: 'new-1', title: 'Title new-1', stars: 5 } } },
      { data: { bookAdded: { id: 'new-2', title: 'Title new-2', stars: 5 } } },
    ]);
    await executor.close();
  });

  it('passes on an event that is only errors', async () => {
    const executor = new FederatedExecutor(gateway, instances);
    const results = await run(executor, { query: 'subscription { bookAdded(shelf: "broken") { id } }' });
    expect(results.map((result) => result.data)).toEqual([undefined]);
    expect(results[0].errors?.[0].message).toBe('no such shelf');
    await executor.close();
  });

  it('stops a subscription when the client goes', async () => {
    const executor = new FederatedExecutor(gateway, instances);
    const controller = new AbortController();
    const seen: unknown[] = [];
    // An endless stream: the loop ends only because the abort ends the subscription.
    for await (const result of executor.execute(
      { query: 'subscription { bookAdded(shelf: "endless") { id } }' },
      context,
      controller.signal,
    )) {
      seen.push(result.data);
      controller.abort();
    }
    expect(seen[0]).toEqual({ bookAdded: { id: 'endless-1' } });
    await executor.close();
  });

  it('refuses a document it cannot parse, or with more tokens than MAX_TOKENS, as HTTP does', async () => {
    const executor = new FederatedExecutor(gateway, instances, undefined, { maxTokens: 8, introspection: true });
    expect(codes(await run(executor, { query: '{ books {' }))).toEqual([
      [['Syntax Error: Expected Name, found <EOF>.', 'GRAPHQL_PARSE_FAILED']],
    ]);
    // graphql-js's own wording ("more that").
    expect(codes(await run(executor, { query: '{ book(id: "b1") { id title } }' }))).toEqual([
      [['Syntax Error: Document contains more that 8 tokens. Parsing aborted.', 'GRAPHQL_PARSE_FAILED']],
    ]);
    expect(codes(await run(executor, { query: '{ books { id } }' }))).toEqual([undefined]);
  });

  it('refuses an invalid document, and introspection when it is off', async () => {
    const open = new FederatedExecutor(gateway, instances);
    expect(codes(await run(open, { query: '{ nope }' }))).toEqual([
      [['Cannot query field "nope" on type "Query".', 'GRAPHQL_VALIDATION_FAILED']],
    ]);
    expect(await run(open, { query: '{ __schema { queryType { name } } }' })).toEqual([
      { data: { __schema: { queryType: { name: 'Query' } } } },
    ]);
    const closed = new FederatedExecutor(gateway, instances, undefined, { maxTokens: 2000, introspection: false });
    expect(codes(await run(closed, { query: '{ __schema { queryType { name } } }' }))[0]?.[0]?.[1]).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
  });

  it('runs the operation a request names, and asks for a name when there are several', async () => {
    const executor = new FederatedExecutor(gateway, instances);
    const query = 'query A { book(id: "a") { id } } query B { book(id: "b") { id } }';
    expect(await run(executor, { query, operationName: 'B' })).toEqual([{ data: { book: { id: 'b' } } }]);
    expect(codes(await run(executor, { query }))).toEqual([
      [['name the operation to run (operationName)', 'BAD_REQUEST']],
    ]);
    expect(codes(await run(executor, { query, operationName: 'C' }))).toEqual([
      [['name the operation to run (operationName)', 'BAD_REQUEST']],
    ]);
  });

  it('parses and validates a document once per supergraph', () => {
    const executor = new FederatedExecutor(gateway, instances);
    const first = executor.prepare({ query: '{ books { id } }' });
    expect(executor.prepare({ query: '{ books { id } }' })).toBe(first);
    expect(executor.schema).toBe(gateway.schema);
  });

  it("answers a check's refusal as an error, passes on anything else it throws, and runs the document a check rewrote", async () => {
    const refusing = new FederatedExecutor(gateway, instances, () => {
      throw new GraphQLError('too deep', { extensions: { code: 'QUERY_TOO_DEEP' } });
    });
    expect(codes(await run(refusing, { query: '{ books { id } }' }))).toEqual([[['too deep', 'QUERY_TOO_DEEP']]]);
    const crashing = new FederatedExecutor(gateway, instances, () => {
      throw new Error('bug in a check');
    });
    await expect(run(crashing, { query: '{ books { id } }' })).rejects.toThrow('bug in a check');
    const checks: Array<{ source: string; variables?: unknown }> = [];
    const rewriting = new FederatedExecutor(gateway, instances, (check) => {
      checks.push({ source: check.source, variables: check.variables });
      return {
        document: parse('{ books { id } }'),
        finish: (result) => ({ ...result, extensions: { checked: true } }),
      };
    });
    expect(await run(rewriting, { query: '{ books { id title } }', variables: { a: 1 } })).toEqual([
      { data: { books: [{ id: 'b1' }, { id: 'b2' }] }, extensions: { checked: true } },
    ]);
    expect(checks).toEqual([{ source: '{ books { id title } }', variables: { a: 1 } }]);
    // The rewritten document is planned on its own: the full one still gets every field it asks for.
    const plain = new FederatedExecutor(gateway, instances);
    expect(await run(plain, { query: print(parse('{ books { id title } }')) })).toEqual([
      {
        data: {
          books: [
            { id: 'b1', title: 'Title b1' },
            { id: 'b2', title: 'Title b2' },
          ],
        },
      },
    ]);
  });

  it("formats every error it sends with the gateway's formatter", async () => {
    const formatError: GatewayHost['formatError'] = (formatted) => ({
      ...formatted,
      message: `masked: ${formatted.message}`,
      extensions: { ...formatted.extensions, masked: true },
    });
    const executor = new FederatedExecutor(gateway, instances, undefined, {
      maxTokens: 2000,
      introspection: true,
      formatError,
    });
    expect(await run(executor, { query: '{ nope }' })).toEqual([
      {
        errors: [
          {
            message: 'masked: Cannot query field "nope" on type "Query".',
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED', masked: true },
          },
        ],
      },
    ]);
    const results = await run(executor, { query: 'subscription { bookAdded(shelf: "broken") { id } }' });
    expect(results[0].errors?.map((error) => [error.message, error.extensions?.masked])).toEqual([
      ['masked: no such shelf', true],
    ]);
  });

  it('answers SUPERGRAPH_UNAVAILABLE before a supergraph is served', async () => {
    const unloaded = new ApolloGateway({ supergraphSdl: 'type Query { a: Int }' });
    const executor = new FederatedExecutor(unloaded, instances);
    expect(codes(await run(executor, { query: '{ a }' }))).toEqual([
      [['no supergraph is served yet', 'SUPERGRAPH_UNAVAILABLE']],
    ]);
  });

  describe('with tracing on', () => {
    const exporter = recordSpans();
    const traced = () =>
      new FederatedExecutor(gateway, instances, undefined, { maxTokens: 2000, introspection: true, tracing: true });

    it('traces a subscription: the operation, its upstream subscription and each event, under one trace', async () => {
      const executor = traced();
      expect(await run(executor, { query: 'subscription Added { bookAdded(shelf: "t") { id stars } }' })).toHaveLength(
        2,
      );
      await executor.close();
      const spans = exporter.getFinishedSpans();
      const names = spans.map((span) => span.name);
      expect(names.filter((name) => name === 'subscription event')).toHaveLength(2);
      expect(names).toContain('subscribe books');
      const operation = spans.find((span) => span.name === 'subscription Added')!;
      expect(operation.attributes['trellis.graphql.outcome']).toBe('success');
      expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(
        new Set([operation.spanContext().traceId]),
      );
    });

    it('records a refusal on the operation span, and an exception thrown by a check', async () => {
      const refusing = new FederatedExecutor(
        gateway,
        instances,
        () => {
          throw new GraphQLError('too deep', { extensions: { code: 'QUERY_TOO_DEEP' } });
        },
        { maxTokens: 2000, introspection: true, tracing: true },
      );
      await run(refusing, { query: 'query Deep { books { id } }' });
      const crashing = new FederatedExecutor(
        gateway,
        instances,
        () => {
          throw new Error('bug in a check');
        },
        { maxTokens: 2000, introspection: true, tracing: true },
      );
      await expect(run(crashing, { query: 'query Crash { books { id } }' })).rejects.toThrow('bug in a check');
      const byName = Object.fromEntries(exporter.getFinishedSpans().map((span) => [span.name, span]));
      expect(byName['query Deep'].attributes).toMatchObject({
        'trellis.graphql.outcome': 'error',
        'error.type': 'QUERY_TOO_DEEP',
      });
      expect(byName['query Crash'].status.code).toBe(2);
    });
  });
});
