/** The express base of every BFF: correlation ids, health, metrics, the body limit, 404s and JSON errors. */
import { Registry } from 'prom-client';
import { createBffApp, finishBffApp, badRequest } from '../../../../bff/shared';
import { recordingLogger, serveOnLoopback, type Loopback } from '../../../support/loopback';

describe('BFF app base', () => {
  let loopback: Loopback;
  let ready: boolean;
  let registry: Registry;

  const start = async (bodyLimit?: string) => {
    ready = true;
    registry = new Registry();
    const { logger } = recordingLogger();
    const app = createBffApp({ app: 'web', logger, registry, isReady: () => ready, bodyLimit });
    app.post('/echo/:id', (req, res) => void res.json({ got: req.body as unknown }));
    app.get('/refuse', (_req, _res, next) => next(badRequest('no')));
    finishBffApp(app, logger);
    loopback = await serveOnLoopback(app);
  };
  afterEach(() => loopback.close());

  it('echoes a well-formed correlation id, replaces a malformed one, and makes one when none is sent', async () => {
    await start();
    expect((await fetch(`${loopback.url}/health/live`, { headers: { 'x-correlation-id': 'abc-123' } })).headers.get('x-correlation-id')).toBe('abc-123');
    const replaced = (await fetch(`${loopback.url}/health/live`, { headers: { 'x-correlation-id': 'bad id <script>' } })).headers.get('x-correlation-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    expect((await fetch(`${loopback.url}/health/live`)).headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await fetch(`${loopback.url}/refuse`, { headers: { 'x-correlation-id': 'err-1' } });
    expect(await refused.json()).toEqual({ error: { code: 'BAD_REQUEST', message: 'no', correlationId: 'err-1' } });
  });

  it('reports live always and ready only while the server says so, naming the BFF', async () => {
    await start();
    expect(await (await fetch(`${loopback.url}/health/live`)).json()).toEqual({ status: 'live' });
    const up = await fetch(`${loopback.url}/health/ready`);
    expect([up.status, await up.json()]).toEqual([200, { status: 'ready', service: 'web-bff' }]);
    ready = false;
    const down = await fetch(`${loopback.url}/health/ready`);
    expect([down.status, await down.json()]).toEqual([503, { status: 'not_ready', service: 'web-bff' }]);
  });

  it('counts every request by app, route pattern and status in trellis_bff_request_duration_seconds, served at /metrics', async () => {
    await start();
    await fetch(`${loopback.url}/echo/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await fetch(`${loopback.url}/echo/2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await fetch(`${loopback.url}/nowhere`);
    const text = await (await fetch(`${loopback.url}/metrics`)).text();
    expect(text).toContain('trellis_bff_request_duration_seconds_count{app="web",route="/echo/:id",status="200"} 2');
    expect(text).toContain('trellis_bff_request_duration_seconds_count{app="web",route="unmatched",status="404"} 1');
    expect(text).toContain('trellis_bff_request_duration_seconds_bucket{le="0.005",app="web",route="/echo/:id",status="200"}');
    expect(text).toContain('trellis_bff_request_duration_seconds_bucket{le="5",app="web",route="/echo/:id",status="200"} 2');
    const buckets = (await registry.getSingleMetric('trellis_bff_request_duration_seconds')!.get()).values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_bucket') && v.labels.route === 'unmatched').map((v) => v.labels.le);
    expect(buckets).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, '+Inf']);
  });

  it('sends neither x-powered-by nor an automatic ETag', async () => {
    await start();
    const response = await fetch(`${loopback.url}/echo/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await response.json()).toEqual({ got: { a: 1 } });
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('etag')).toBeNull();
  });

  it('accepts a JSON body up to 32 kB by default and answers 413 past it', async () => {
    await start();
    const post = (bytes: number) => fetch(`${loopback.url}/echo/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ s: 'x'.repeat(bytes - 8) }) });
    expect((await post(32 * 1024)).status).toBe(200);
    const tooLarge = await post(32 * 1024 + 1);
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: unknown }).error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than 32768 bytes' });
  });

  it('takes another body limit when given one', async () => {
    await start('1kb');
    const tooLarge = await fetch(`${loopback.url}/echo/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ s: 'x'.repeat(1100) }) });
    expect(((await tooLarge.json()) as { error: { message: string } }).error.message).toBe('request body is larger than 1024 bytes');
  });

  it('answers an unknown route with the JSON 404', async () => {
    await start();
    const response = await fetch(`${loopback.url}/nowhere`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ code: 'NOT_FOUND', message: 'no route for GET /nowhere' });
  });
});
