/**
 * The web BFF as `npm start` runs it: sessions (cookie in, token kept server-side), page endpoints,
 * orders with progress over WebSocket, the /graphql passthrough, and JSON errors for bad input.
 */
import { startPlatform, type RunningPlatform } from '../../support/platform';
import { PLACE_ORDER_STAGES, sagaStage, WATCHABLE_SAGAS } from '../../support/sagaStates';
import { getJson, readWebSocket, sendJson, tokenFor, webSession, webUrl } from '../../support/bff';

describe('web BFF', () => {
  let platform: RunningPlatform;
  let web: string;
  let cookie: string;

  beforeAll(async () => {
    // Steps pause, so a progress stream opened when the order is placed sees the saga before its first step moves.
    platform = await startPlatform({ env: WATCHABLE_SAGAS });
    web = webUrl(platform);
    cookie = await webSession(web, await tokenFor(platform, 'u1'));
  });
  afterAll(async () => {
    expect(await platform.stop()).toBe(0);
  });

  it('is started and printed by npm start', () => {
    expect(platform.output()).toContain(`${web}/api/pages/home`);
    expect(platform.output()).toContain(`http://127.0.0.1:${platform.base + 200}/v1/products`);
  });

  it('opens a session with an HttpOnly SameSite=Strict cookie that never holds the token', async () => {
    const token = await tokenFor(platform, 'u2');
    const response = await sendJson('POST', `${web}/api/session`, { token });
    expect(response.status).toBe(201);
    expect(response.body.user).toEqual({ id: 'u2', scopes: ['payments:read', 'users:email'] });
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^trellis_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(setCookie).not.toContain(token.slice(0, 20));
    const session = setCookie.split(';')[0];
    expect((await getJson(`${web}/api/session`, { cookie: session })).body.user.id).toBe('u2');

    const ended = await fetch(`${web}/api/session`, { method: 'DELETE', headers: { cookie: session } });
    expect(ended.status).toBe(204);
    expect(ended.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await getJson(`${web}/api/session`, { cookie: session })).body.user).toBeNull();
    expect((await getJson(`${web}/api/pages/orders`, { cookie: session })).status).toBe(401);
  });

  it('refuses a bad token with 401 and says why', async () => {
    const response = await sendJson('POST', `${web}/api/session`, { token: 'not-a-jwt' });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('UNAUTHENTICATED');
    expect(response.body.error.message).toMatch(/token/);
  });

  it('serves the home page: user, recent orders with items and payment state, featured products', async () => {
    const { status, body, headers } = await getJson(`${web}/api/pages/home`, { cookie });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body.user).toEqual({ id: 'u1', name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(body.recentOrders.map((o: { id: string }) => o.id)).toEqual(expect.arrayContaining(['o1', 'o2']));
    const o1 = body.recentOrders.find((o: { id: string }) => o.id === 'o1');
    expect(o1).toMatchObject({ total: 29.99, status: 'DELIVERED', paymentState: 'CAPTURED' });
    expect(o1.items[0]).toMatchObject({ quantity: 2, product: { id: 'p1', name: 'Trellis Mug' } });
    expect(body.featured).toHaveLength(4);
    expect(body.featured[0]).toEqual({ id: 'p1', name: 'Trellis Mug', price: 12.5, inStock: expect.any(Number) });
  });

  it('serves an anonymous home page with no user', async () => {
    const { status, body } = await getJson(`${web}/api/pages/home`);
    expect(status).toBe(200);
    expect(body.user).toBeNull();
    expect(body.recentOrders).toEqual([]);
    expect(body.featured).toHaveLength(4);
  });

  it('serves the product page with related products, and 404 for an unknown product', async () => {
    const { status, body } = await getJson(`${web}/api/pages/product/p2`);
    expect(status).toBe(200);
    expect(body.product).toMatchObject({ id: 'p2', name: 'Federation Hoodie', price: 54, available: true });
    expect(body.related.map((p: { id: string }) => p.id)).not.toContain('p2');
    const missing = await getJson(`${web}/api/pages/product/p999`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'no product with id "p999"' });
  });

  it('serves the orders page for the signed-in user only', async () => {
    const { status, body } = await getJson(`${web}/api/pages/orders`, { cookie });
    expect(status).toBe(200);
    expect(body.orders.map((o: { id: string }) => o.id)).toEqual(expect.arrayContaining(['o2', 'o1']));
    const anonymous = await getJson(`${web}/api/pages/orders`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('places an order and streams every saga state over WebSocket up to COMPLETED', async () => {
    const started = await sendJson('POST', `${web}/api/orders`, { items: [{ productId: 'p3', quantity: 1 }] }, { cookie });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ sagaId: expect.any(String), state: 'RUNNING', progress: `/api/orders/${started.body.sagaId}/progress` });

    const { messages, code } = await readWebSocket(`${web.replace('http', 'ws')}${started.body.progress}`, { cookie });
    expect(code).toBe(1000);
    const progress = messages.filter((m) => m.type === 'progress').map((m) => m.saga);
    expect(progress.map((saga) => saga.id)).toEqual(progress.map(() => started.body.sagaId));
    expect(progress.map(sagaStage)).toEqual(PLACE_ORDER_STAGES.completed);
    expect(progress.at(-1)).toMatchObject({ state: 'COMPLETED', order: { status: expect.any(String) } });
    // Every message is progress, then one complete: nothing else (an error) slipped in between.
    expect(messages.map((m) => m.type)).toEqual([...progress.map(() => 'progress'), 'complete']);
  });

  it('streams a declined card to COMPENSATED, and refuses that stream to another user', async () => {
    const started = await sendJson('POST', `${web}/api/orders`, { items: [{ productId: 'p4', quantity: 1 }], paymentMethod: 'card-declined' }, { cookie });
    expect(started.status).toBe(202);
    const { messages } = await readWebSocket(`${web.replace('http', 'ws')}${started.body.progress}`, { cookie });
    const progress = messages.filter((m) => m.type === 'progress').map((m) => m.saga);
    expect(progress.map((saga) => saga.id)).toEqual(progress.map(() => started.body.sagaId));
    expect(progress.map(sagaStage)).toEqual(PLACE_ORDER_STAGES.declined);
    expect(messages.map((m) => m.type)).toEqual([...progress.map(() => 'progress'), 'complete']);

    // Another user's session watching this saga: one FORBIDDEN error, no state.
    const stranger = await webSession(web, await tokenFor(platform, 'u2'));
    const watched = await readWebSocket(`${web.replace('http', 'ws')}${started.body.progress}`, { cookie: stranger });
    expect(watched.messages).toEqual([{ type: 'error', error: { code: 'FORBIDDEN', message: `saga ${started.body.sagaId} belongs to another user` } }]);
    expect(watched.code).toBe(1011);
  });

  it('refuses the progress WebSocket to a page from another site, even with the session cookie', async () => {
    const started = await sendJson('POST', `${web}/api/orders`, { items: [{ productId: 'p3', quantity: 1 }] }, { cookie });
    const foreign = await readWebSocket(`${web.replace('http', 'ws')}${started.body.progress}`, { cookie, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const own = await readWebSocket(`${web.replace('http', 'ws')}${started.body.progress}`, { cookie, origin: web });
    expect(own.code).toBe(1000);
  });

  it('refuses the progress WebSocket without a session, and an order without one', async () => {
    const { status } = await readWebSocket(`${web.replace('http', 'ws')}/api/orders/x/progress`, {});
    expect(status).toBe(401);
    expect((await sendJson('POST', `${web}/api/orders`, { items: [{ productId: 'p1', quantity: 1 }] })).status).toBe(401);
  });

  it('passes /graphql through with the session token', async () => {
    const response = await sendJson('POST', `${web}/graphql`, { query: '{ me { id name } }' }, { cookie });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { me: { id: 'u1', name: 'Ada Lovelace' } } });
    // The BFF asks the gateway for application/json, where a validation error is a request error
    // answered 200 (GraphQL-over-HTTP), and passes that answer on as it came.
    const invalid = await sendJson('POST', `${web}/graphql`, { query: '{ nope }' }, { cookie });
    expect(invalid.status).toBe(200);
    expect(invalid.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers bad input with JSON errors and no stack: unknown route, bad JSON, wrong types, oversized body', async () => {
    const unknown = await getJson(`${web}/api/nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'no route for GET /api/nope' });

    const badJson = await sendJson('POST', `${web}/api/orders`, '{"items": [', { cookie });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe('BAD_JSON');

    const wrongType = await sendJson('POST', `${web}/api/orders`, { items: [{ productId: 'p1', quantity: 'two' }] }, { cookie });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.details).toEqual([{ path: 'items.0.quantity', message: 'Expected number, received string' }]);

    const oversized = await sendJson('POST', `${web}/graphql`, { query: `{ products { id } } #${'x'.repeat(64 * 1024)}` }, { cookie });
    expect(oversized.status).toBe(413);
    expect(oversized.body.error.code).toBe('PAYLOAD_TOO_LARGE');

    for (const body of [unknown.body, badJson.body, wrongType.body, oversized.body]) expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('keeps the caller correlation id, serves health and metrics', async () => {
    const response = await getJson(`${web}/api/pages/product/p1`, { 'x-correlation-id': 'web-test-1' });
    expect(response.headers.get('x-correlation-id')).toBe('web-test-1');
    expect((await getJson(`${web}/health/live`)).body).toEqual({ status: 'live' });
    expect((await getJson(`${web}/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${web}/metrics`)).text();
    expect(metrics).toContain('trellis_bff_request_duration_seconds_bucket');
    expect(metrics).toContain('trellis_bff_cache_lookups_total');
  });
});
