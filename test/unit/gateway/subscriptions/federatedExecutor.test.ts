/**
 * The FederatedExecutor's caches, on a real ApolloGateway and a real graphql-ws subgraph: a
 * document is validated once and planned once per supergraph, a document the checks rewrite is
 * planned by its content, and a supergraph swap plans again.
 */
import { ApolloGateway } from '@apollo/gateway';
import { composeServices } from '@apollo/composition';
import type { QueryPlanner } from '@apollo/query-planner';
import { parse, visit, type DocumentNode, type ExecutionResult } from 'graphql';
import { FederatedExecutor, type OperationRequest } from '../../../../gateway/subscriptions/federatedExecutor';
import { UpstreamPool } from '../../../../gateway/subscriptions/upstreamPool';
import { InstanceDirectory } from '../../../../gateway/supergraph/instances';
import type { GatewayContext } from '../../../../gateway/context';
import type { GatewayHost } from '../../../../gateway/extension';
import { UpstreamServer } from '../../../support/upstreamServer';

const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { ok: Boolean }
  type Subscription { status(id: ID!): String! }
`);

const context = { correlationId: 'corr-1', forwardHeaders: {}, logger: { warn: () => undefined, error: () => undefined } } as unknown as GatewayContext;
const request: OperationRequest = { query: 'subscription Watch($id: ID!) { status(id: $id) }', variables: { id: 'saga-1' }, operationName: 'Watch' };

interface Internals {
  queryPlanner: QueryPlanner;
}

describe('FederatedExecutor caches', () => {
  let server: UpstreamServer;
  let gateway: ApolloGateway;
  let pool: UpstreamPool;
  let planned: jest.SpyInstance;

  beforeAll(async () => {
    server = await new UpstreamServer('a').start();
    const composed = composeServices([{ name: 'status', typeDefs, url: server.url }]);
    if (composed.errors) throw composed.errors[0];
    gateway = new ApolloGateway({ supergraphSdl: composed.supergraphSdl });
    await gateway.load();
  });

  beforeEach(() => {
    const instances = new InstanceDirectory();
    instances.replace([server.instance]);
    pool = new UpstreamPool({ instances: (name) => instances.instancesOf(name) });
    planned = jest.spyOn((gateway as unknown as Internals).queryPlanner, 'buildQueryPlan');
  });

  afterEach(async () => {
    planned.mockRestore();
    await pool.stop();
  });

  afterAll(async () => {
    await gateway.stop();
    await server.kill();
  });

  /** The first event of one client's subscription, the client leaving after it. */
  async function firstEvent(executor: FederatedExecutor, check?: OperationRequest): Promise<ExecutionResult> {
    const abort = new AbortController();
    const results = executor.execute(check ?? request, context, abort.signal);
    const { value } = await results.next();
    abort.abort();
    await results.return(undefined);
    return value as ExecutionResult;
  }

  it('validates a document once and plans it once, however many clients send it', async () => {
    const executor = new FederatedExecutor(gateway, new InstanceDirectory(), undefined, undefined, pool);
    expect(executor.prepare(request)).toBe(executor.prepare(request));
    for (let n = 0; n < 3; n++) expect((await firstEvent(executor)).data).toEqual({ status: 'a:saga-1:snapshot' });
    expect(planned).toHaveBeenCalledTimes(1);
  });

  it('plans a document the checks rewrote by its content: once per distinct rewrite', async () => {
    // As auth does for a caller missing a scope: a new document object on every request.
    const aliased = (document: DocumentNode, alias: string): DocumentNode =>
      visit(document, { Field: (node) => (node.name.value === 'status' ? { ...node, alias: { kind: 'Name' as never, value: alias } } : undefined) });
    let alias = 'first';
    const check: GatewayHost['checkOperation'] = ({ document }) => ({ document: aliased(document, alias), finish: (result) => result });
    const executor = new FederatedExecutor(gateway, new InstanceDirectory(), check, undefined, pool);
    expect((await firstEvent(executor)).data).toEqual({ first: 'a:saga-1:snapshot' });
    expect((await firstEvent(executor)).data).toEqual({ first: 'a:saga-1:snapshot' });
    expect(planned).toHaveBeenCalledTimes(1);
    alias = 'second';
    expect((await firstEvent(executor)).data).toEqual({ second: 'a:saga-1:snapshot' });
    expect(planned).toHaveBeenCalledTimes(2);
  });

  it('plans again after a supergraph swap (a new planner)', async () => {
    const executor = new FederatedExecutor(gateway, new InstanceDirectory(), undefined, undefined, pool);
    await firstEvent(executor);
    expect(planned).toHaveBeenCalledTimes(1);
    const internals = gateway as unknown as Internals;
    const previous = internals.queryPlanner;
    // A new planner object (its planning the spied one's, by prototype), as a recomposition installs.
    internals.queryPlanner = Object.create(previous) as QueryPlanner;
    try {
      expect((await firstEvent(executor)).data).toEqual({ status: 'a:saga-1:snapshot' });
      expect(planned).toHaveBeenCalledTimes(2);
      await firstEvent(executor);
      expect(planned).toHaveBeenCalledTimes(2);
    } finally {
      internals.queryPlanner = previous;
    }
  });

  it('does not cache what failed validation: it is refused each time, formatted', async () => {
    const bad = { query: 'subscription { nope }' };
    const executor = new FederatedExecutor(gateway, new InstanceDirectory(), undefined, undefined, pool);
    const first = executor.prepare(bad);
    expect('errors' in first && first.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(executor.prepare(bad)).not.toBe(first);
  });
});
