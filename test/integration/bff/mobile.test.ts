/** The mobile BFF as `npm start` runs it: compact reads, cursors, ETag/304, persisted operations only, SSE progress. */
import { startPlatform, type RunningPlatform } from '../../support/platform';
import { PLACE_ORDER_STAGES, sagaStage, WATCHABLE_SAGAS } from '../../support/sagaStates';
import { getJson, mobileUrl, readSse, sendJson, tokenFor } from '../../support/bff';

describe('mobile BFF', () => {
  let platform: RunningPlatform;
  let mobile: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    // Steps pause, so a progress stream opened when the order is placed sees the saga before its first step moves.
    platform = await startPlatform({ env: WATCHABLE_SAGAS });
    mobile = mobileUrl(platform);
    auth = { authorization: `Bearer ${await tokenFor(platform, 'u1')}` };
  });
  afterAll(async () => {
    expect(await platform.stop()).toBe(0);
  });

  it('GET /v1/me forwards the bearer token; 401 without one or with a bad one', async () => {
    expect((await getJson(`${mobile}/v1/me`, auth)).body).toEqual({ id: 'u1', name: 'Ada Lovelace', email: 'ada@example.com' });
    const noEmailScope = { authorization: `Bearer ${await tokenFor(platform, 'u2', [])}` };
    expect((await getJson(`${mobile}/v1/me`, noEmailScope)).body).toEqual({ id: 'u2', name: 'Grace Hopper' });
    expect((await getJson(`${mobile}/v1/me`)).status).toBe(401);
    const bad = await getJson(`${mobile}/v1/me`, { authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('pages products with opaque cursors to the end', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: { status: number; body: { items: Array<{ id: string }>; next: string | null } } = await getJson(`${mobile}/v1/products?first=2${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((p) => p.id));
      after = page.body.next;
      if (after) expect(after).not.toMatch(/p\d/);
    } while (after);
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    const bad = await getJson(`${mobile}/v1/products?after=garbage`);
    expect(bad.status).toBe(400);
    expect((await getJson(`${mobile}/v1/products?first=0`)).status).toBe(400);
  });

  it('GET /v1/products/:id is compact; unknown is 404', async () => {
    expect((await getJson(`${mobile}/v1/products/p2`)).body).toEqual({ id: 'p2', name: 'Federation Hoodie', price: 54, inStock: expect.any(Number) });
    expect((await getJson(`${mobile}/v1/products/p999`)).status).toBe(404);
  });

  it('GET /v1/orders pages the caller orders compactly', async () => {
    const first = await getJson(`${mobile}/v1/orders?first=1`, auth);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.items[0]).toEqual({ id: expect.any(String), total: expect.any(Number), status: expect.any(String), itemCount: expect.any(Number), payment: expect.any(String) });
    const rest = await getJson(`${mobile}/v1/orders?first=50&after=${first.body.next}`, auth);
    expect([...first.body.items, ...rest.body.items].map((o: { id: string }) => o.id)).toEqual(expect.arrayContaining(['o1', 'o2']));
    expect(rest.body.next).toBeNull();
    expect((await getJson(`${mobile}/v1/orders`)).status).toBe(401);
  });

  it('sends an ETag on every read and 304 with no body on a matching If-None-Match', async () => {
    for (const [path, headers] of [['/v1/products/p1', {}], ['/v1/products?first=3', {}], ['/v1/me', auth], ['/v1/orders', auth]] as const) {
      const fresh = await fetch(`${mobile}${path}`, { headers });
      const etag = fresh.headers.get('etag');
      expect(etag).toMatch(/^"[\w-]+"$/);
      await fresh.text();
      const again = await fetch(`${mobile}${path}`, { headers: { ...headers, 'if-none-match': etag! } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      const other = await fetch(`${mobile}${path}`, { headers: { ...headers, 'if-none-match': '"other"' } });
      expect(other.status).toBe(200);
      await other.text();
    }
  });

  it('runs persisted operations and refuses query text and unknown ids', async () => {
    const ok = await sendJson('POST', `${mobile}/graphql`, { id: 'Product', variables: { id: 'p1' } });
    expect(ok.body).toEqual({ data: { product: { id: 'p1', name: 'Trellis Mug', price: 12.5, inStock: expect.any(Number) } } });
    const me = await sendJson('POST', `${mobile}/graphql`, { id: 'Me' }, auth);
    expect(me.body.data.me).toEqual({ id: 'u1', name: 'Ada Lovelace' });
    const raw = await sendJson('POST', `${mobile}/graphql`, { query: '{ users { id email } }' });
    expect(raw.status).toBe(400);
    expect(raw.body.error.code).toBe('PERSISTED_QUERY_REQUIRED');
    const unknown = await sendJson('POST', `${mobile}/graphql`, { id: 'DropTables' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'PERSISTED_QUERY_NOT_FOUND', message: 'unknown persisted operation "DropTables"' });
    const viaGet = await fetch(`${mobile}/graphql?id=Products&variables=${encodeURIComponent('{"first":1}')}`);
    expect(viaGet.headers.get('etag')).toBeTruthy();
    expect(await viaGet.json()).toEqual({ data: { products: [expect.objectContaining({ id: 'p1' })] } });
  });

  it('places an order and streams every saga state over SSE up to the terminal one', async () => {
    const started = await sendJson('POST', `${mobile}/v1/orders`, { items: [{ productId: 'p1', quantity: 1 }] }, auth);
    expect(started.status).toBe(202);
    const { status, events } = await readSse(`${mobile}${started.body.progress}`, auth);
    expect(status).toBe(200);
    const states = events.filter((e) => e.event === 'progress').map((e) => sagaStage(e.data));
    expect(states).toEqual(PLACE_ORDER_STAGES.completed);
    // Every event is progress, then one complete: nothing else (an error) slipped in between.
    expect(events.map((e) => e.event)).toEqual([...states.map(() => 'progress'), 'complete']);

    const declined = await sendJson('POST', `${mobile}/v1/orders`, { items: [{ productId: 'p1', quantity: 1 }], paymentMethod: 'card-declined' }, auth);
    const compensated = await readSse(`${mobile}${declined.body.progress}`, auth);
    const undone = compensated.events.filter((e) => e.event === 'progress').map((e) => sagaStage(e.data));
    expect(undone).toEqual(PLACE_ORDER_STAGES.declined);
    expect(compensated.events.map((e) => e.event)).toEqual([...undone.map(() => 'progress'), 'complete']);
    expect((await readSse(`${mobile}${declined.body.progress}`, {})).status).toBe(401);
    // Another user's saga: refused before any state is sent.
    expect(await readSse(`${mobile}${declined.body.progress}`, { authorization: `Bearer ${await tokenFor(platform, 'u2')}` })).toEqual({ status: 403, events: [] });
  });
});
