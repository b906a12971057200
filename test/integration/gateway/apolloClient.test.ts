/**
 * A real client reads Trellis (issue 32 item 4): Apollo Client 4 in Node, over its HttpLink only,
 * against a gateway over four example subgraphs (users, orders, payments, catalog). A deferred
 * query is read with each of Apollo Client's incremental handlers (`Defer20220824Handler`,
 * `GraphQL17Alpha9Handler`): the client shows the primary part while the catalog is held at a gate
 * the test opens, then the whole result, equal to the same query without `@defer`.
 */
import { ApolloClient, HttpLink, InMemoryCache, gql, type ObservableQuery } from '@apollo/client';
import { Defer20220824Handler, GraphQL17Alpha9Handler } from '@apollo/client/incremental';
import { loadErrorMessages } from '@apollo/client/dev';
import { catalogSubgraph } from '../../../subgraphs/catalog';
import { createGate, heldReferences, type Gate } from '../../support/gate';
import { startStaticPlatform, type StaticPlatform } from '../../support/staticPlatform';
import { startTestIdentity, type TestIdentity } from '../../support/identity';

const ORDERS = `
  query Orders {
    user(id: "u1") {
      name
      orders {
        id
        total
        payment { state }
        ... @defer(label: "items") { items { quantity product { name price } } }
      }
    }
  }`;

/** What the client holds for ORDERS once every part is in: the same query without @defer, asked of the same gateway. */
const WHOLE = ORDERS.replace('... @defer(label: "items") {', '... {');

type Result = ObservableQuery.Result<Record<string, unknown>>;

describe('Apollo Client 4 reads Trellis', () => {
  let identity: TestIdentity;
  let platform: StaticPlatform;
  let buyer: { authorization: string };
  let products: Gate = createGate();

  beforeAll(async () => {
    loadErrorMessages(); // Apollo Client's own words instead of an error number
    identity = await startTestIdentity();
    platform = await startStaticPlatform(identity.env, {}, identity.env, {
      subgraphs: ['users', 'orders', 'payments', 'catalog'],
      factories: { catalog: heldReferences(catalogSubgraph, 'Product', () => products) },
    });
    buyer = await identity.bearer('u1', ['payments:read']);
  });

  afterAll(async () => {
    products.open();
    await platform?.stop();
    await identity?.stop();
  });

  const clientWith = (incrementalHandler?: Defer20220824Handler | GraphQL17Alpha9Handler) =>
    new ApolloClient({ link: new HttpLink({ uri: platform.url, headers: buyer }), cache: new InMemoryCache(), ...(incrementalHandler ? { incrementalHandler } : {}) });

  /** The results a watched query emits, each awaited by what it must be, never by time. */
  const watch = (client: ApolloClient, query: string) => {
    const seen: Result[] = [];
    const waiters: Array<() => void> = [];
    let failed: unknown;
    const subscription = client.watchQuery({ query: gql(query), fetchPolicy: 'network-only' }).subscribe({
      next: (result) => {
        seen.push(result as Result);
        waiters.splice(0).forEach((wake) => wake());
      },
      error: (error) => {
        failed = error;
        waiters.splice(0).forEach((wake) => wake());
      },
    });
    /** The first result in `state`; fails when none comes within `withinMs` (a part held back would hang the test otherwise). */
    const first = async (state: Result['dataState'], withinMs = 15_000): Promise<Result> => {
      const deadline = Date.now() + withinMs;
      for (;;) {
        if (failed) throw failed;
        const found = seen.find((result) => result.dataState === state);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${state} result within ${withinMs} ms; saw ${JSON.stringify(seen.map((result) => result.dataState))}`);
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, left);
          waiters.push(() => {
            clearTimeout(timer);
            wake();
          });
        });
      }
    };
    return { first, seen, stop: () => subscription.unsubscribe() };
  };

  it.each([
    ['Defer20220824Handler', () => new Defer20220824Handler()],
    ['GraphQL17Alpha9Handler', () => new GraphQL17Alpha9Handler()],
  ])('%s: the primary part while the catalog is held, then the whole result', async (_name, handler) => {
    products = createGate();
    const client = clientWith(handler());
    const watched = watch(client, ORDERS);
    try {
      const streaming = await watched.first('streaming');
      // The user, orders and payments are here; the catalog has the product request and has not answered it.
      await products.reached;
      const user = streaming.data?.user as { name: string; orders: Array<Record<string, unknown>> };
      expect(user.name).toBe('Ada Lovelace');
      expect(user.orders.map(({ id, payment }) => ({ id, payment }))).toEqual([
        { id: 'o2', payment: { __typename: 'Payment', state: 'CAPTURED' } },
        { id: 'o1', payment: { __typename: 'Payment', state: 'CAPTURED' } },
      ]);
      expect(user.orders.every((order) => !('items' in order))).toBe(true);

      products.open();
      const complete = await watched.first('complete');
      const whole = await clientWith().query({ query: gql(WHOLE), fetchPolicy: 'network-only' });
      expect(complete.data).toEqual(whole.data);
      expect(complete.error).toBeUndefined();
      expect(watched.seen.filter((result) => result.dataState === 'complete')).toHaveLength(1);
    } finally {
      watched.stop();
      client.stop();
    }
  });

  it('without an incremental handler, Apollo Client refuses a deferred query and says to pass one', async () => {
    const client = clientWith();
    await expect(client.query({ query: gql(ORDERS), fetchPolicy: 'network-only' })).rejects.toThrow(/not supported without specifying an incremental handler/);
    client.stop();
  });
});
