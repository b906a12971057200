import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { measureStaleness, stalenessTable, type StalenessOptions } from '../../../bench/gateway/staleness';
import { buildDataset } from '../../../bench/gateway/dataset';
import type { ChangeAnnouncement } from '@trellis/kit/internal/events';

const data = buildDataset();
/** The product id of an announced change (the part announces one at a time). */
const idOf = (change: ChangeAnnouncement | readonly ChangeAnnouncement[]) => String((change as ChangeAnnouncement).key.id);

/**
 * A caching gateway in miniature: it answers `product(id)` from its own copy of the stock, filled
 * from `truth` on a miss; `serve` says what it answers given its copy (the test's announce drops it).
 */
function cachingGateway(truth: Map<string, number>, serve: (id: string, cached: number | undefined) => number) {
  const cached = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const { id } = (JSON.parse(body) as { variables: { id: string } }).variables;
      const product = data.changing.find((candidate) => candidate.id === id)!;
      const inStock = serve(id, cached.get(id));
      // A garbled answer (a negative stock) is served once, not kept.
      if (inStock >= 0) cached.set(id, inStock);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { product: { id, name: product.name, price: product.price, inStock } } }));
    });
  });
  return { server, cached, truth };
}

const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`)));

describe('the staleness part', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  const options = (url: string, truth: Map<string, number>, announce: StalenessOptions['announce'], extra: Partial<StalenessOptions> = {}): StalenessOptions => ({
    target: 'fake',
    url,
    learns: 'events',
    products: data.changing.slice(0, 3),
    stock: new Map(truth),
    authorization: 'Bearer x',
    setStock: async (id, available) => void truth.set(id, available),
    announce,
    changes: 6,
    capMs: 2000,
    pollMs: 1,
    random: () => 0,
    ...extra,
  });

  it('measures from the announcement to the first answer with the new value, the cached old one served until then', async () => {
    const truth = new Map(data.changing.map((product) => [product.id, product.inStock]));
    const gateway = cachingGateway(truth, (id, cached) => cached ?? truth.get(id)!);
    server = gateway.server;
    const url = await listen(server);
    // The gateway drops its copy 40 ms after each announcement, as a change feed would.
    const announce: StalenessOptions['announce'] = async (change) => void setTimeout(() => gateway.cached.delete(idOf(change)), 40);
    const row = await measureStaleness(options(url, truth, announce));
    expect(row).toMatchObject({ changes: 6, seen: 6, capped: 0, wrong: 0, freshBeforeAnnounce: 0 });
    // The drop is timed from the announce call, the window from its return: a hair less than 40 ms at the least.
    expect(row.p50Ms).toBeGreaterThanOrEqual(35);
    expect(row.maxMs).toBeLessThan(2000);
    // Every change written and kept: the next change starts from it.
    expect([...truth.entries()].filter(([id]) => ['changing1', 'changing2', 'changing3'].includes(id)).every(([id, value]) => value > data.changing.find((product) => product.id === id)!.inStock)).toBe(true);
  });

  it('counts a change never served within the cap, and one served fresh before it was announced', async () => {
    const truth = new Map(data.changing.map((product) => [product.id, product.inStock]));
    server = cachingGateway(truth, (id, cached) => cached ?? truth.get(id)!).server;
    const never = await measureStaleness(options(await listen(server), truth, async () => undefined, { changes: 2, capMs: 100 }));
    expect(never).toMatchObject({ changes: 2, seen: 0, capped: 2, wrong: 0, freshBeforeAnnounce: 0 });

    await new Promise<void>((resolve) => server!.close(() => resolve()));
    // No cache at all: the new value is out before anything is announced.
    server = cachingGateway(truth, (id) => truth.get(id)!).server;
    const fresh = await measureStaleness(options(await listen(server), truth, async () => undefined, { changes: 2 }));
    expect(fresh).toMatchObject({ changes: 2, seen: 2, capped: 0, wrong: 0, freshBeforeAnnounce: 2 });
  });

  it('judges every answer: a value neither the old nor the new one is wrong', async () => {
    const truth = new Map(data.changing.map((product) => [product.id, product.inStock]));
    let reads = 0;
    server = cachingGateway(truth, (id, cached) => (++reads === 4 ? -1 : (cached ?? truth.get(id)!))).server;
    const gatewayUrl = await listen(server);
    const row = await measureStaleness(options(gatewayUrl, truth, async () => undefined, { changes: 1, capMs: 50 }));
    expect(row.wrong).toBe(1);
    expect(row.firstWrong).toContain('inStock -1');
  });

  it('sends a TTL-only target one change per product at once, and tables every row', async () => {
    const truth = new Map(data.changing.map((product) => [product.id, product.inStock]));
    const gateway = cachingGateway(truth, (id, cached) => cached ?? truth.get(id)!);
    server = gateway.server;
    // Entries expire 60 ms after the change, whatever is announced.
    const row = await measureStaleness(
      options(await listen(server), truth, async (change) => void setTimeout(() => gateway.cached.delete(idOf(change)), 60), { learns: 'ttl', products: data.changing.slice(0, 4) }),
    );
    expect(row).toMatchObject({ learns: 'ttl', changes: 4, seen: 4, capped: 0, wrong: 0 });
    expect(row.machineLoad).toBeGreaterThanOrEqual(0);
    const table = stalenessTable([row, { target: 'down', note: 'n/a: it did not start' }], 60);
    expect(table).toMatch(/\| fake .*machine load \d+\.\d/);
    expect(table).toMatch(/\| down +\|.*n\/a: it did not start/);
  });
});
