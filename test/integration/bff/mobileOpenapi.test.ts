/* eslint-disable @typescript-eslint/no-explicit-any -- OpenAPI documents and JSON bodies of many shapes */
/**
 * The mobile BFF's OpenAPI 3.1 description is true: every `/v1` route the app serves is described
 * and every described one is served, and the real answers of every endpoint, success and error,
 * validate against the document's schemas (JSON Schema 2020-12, ajv).
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { Express } from 'express';
import { startPlatform, type RunningPlatform } from '../../support/platform';
import { getJson, mobileUrl, readSse, sendJson, tokenFor } from '../../support/bff';
import { PLACE_ORDER_STAGES, sagaStage, WATCHABLE_SAGAS } from '../../support/sagaStates';
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { createMobileBff } from '../../../bff/mobile/app';

/** `METHOD /path` of every route an express app serves, with `:id` written `{id}` as OpenAPI does. */
function servedRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as any).router.stack);
  return routes;
}

function describedRoutes(document: any): string[] {
  return Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
}

describe('mobile BFF OpenAPI description', () => {
  let platform: RunningPlatform;
  let mobile: string;
  let auth: Record<string, string>;
  let document: any;
  let ajv: Ajv2020;

  beforeAll(async () => {
    // Steps pause, so the progress stream shows every stage of the saga, each checked against the schema.
    platform = await startPlatform({ env: WATCHABLE_SAGAS });
    mobile = mobileUrl(platform);
    auth = { authorization: `Bearer ${await tokenFor(platform, 'u1')}` };
    const served = await getJson(`${mobile}/v1/openapi.json`);
    expect(served.status).toBe(200);
    document = served.body;
    ajv = new Ajv2020({ allErrors: true, strict: true });
    for (const [name, schema] of Object.entries(document.components.schemas as Record<string, object>)) ajv.addSchema(schema, `#/components/schemas/${name}`);
  });
  afterAll(async () => {
    expect(await platform.stop()).toBe(0);
  });

  /** The validator of one documented answer: the schema for `status` of `method path`. */
  const schemaFor = (method: string, path: string, status: number): ValidateFunction => {
    const response = document.paths[path]?.[method]?.responses?.[String(status)];
    if (!response) throw new Error(`${method.toUpperCase()} ${path} has no ${status} response in the document`);
    const schema = response.content['application/json'].schema;
    return ajv.compile({ $ref: schema.$ref ? `${schema.$ref}` : undefined, ...(schema.$ref ? {} : schema) });
  };
  const expectValid = (method: string, path: string, answer: { status: number; body: unknown }) => {
    const validate = schemaFor(method, path, answer.status);
    const ok = validate(answer.body);
    if (!ok) throw new Error(`${method.toUpperCase()} ${path} ${answer.status} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(answer.body)}`);
  };

  it('is OpenAPI 3.1 with JSON Schema 2020-12', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('describes exactly the /v1 routes the app serves', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const server = createMobileBff({ config, logger: createLogger({ service: 'openapi-test', level: 'silent' }), state: new InMemoryStateStore() });
    try {
      const served = servedRoutes(server.app).filter((route) => route.split(' ')[1].startsWith('/v1/'));
      expect(served.length).toBeGreaterThan(5);
      expect([...new Set(served)].sort()).toEqual(describedRoutes(document).sort());
    } finally {
      await server.stop();
    }
  });

  it('GET /v1/me: 200, 401', async () => {
    expectValid('get', '/v1/me', await getJson(`${mobile}/v1/me`, auth));
    expectValid('get', '/v1/me', await getJson(`${mobile}/v1/me`, { authorization: `Bearer ${await tokenFor(platform, 'u2', [])}` }));
    expectValid('get', '/v1/me', await getJson(`${mobile}/v1/me`));
    expectValid('get', '/v1/me', await getJson(`${mobile}/v1/me`, { authorization: 'Bearer nope' }));
  });

  it('GET /v1/products: 200 on every page, 400', async () => {
    const first = await getJson(`${mobile}/v1/products?first=2`);
    expectValid('get', '/v1/products', first);
    expectValid('get', '/v1/products', await getJson(`${mobile}/v1/products?first=50&after=${first.body.next}`));
    expectValid('get', '/v1/products', await getJson(`${mobile}/v1/products?first=0`));
    expectValid('get', '/v1/products', await getJson(`${mobile}/v1/products?after=garbage`));
  });

  it('GET /v1/products/{id}: 200, 400, 404', async () => {
    expectValid('get', '/v1/products/{id}', await getJson(`${mobile}/v1/products/p1`));
    expectValid('get', '/v1/products/{id}', await getJson(`${mobile}/v1/products/p999`));
    expectValid('get', '/v1/products/{id}', await getJson(`${mobile}/v1/products/${encodeURIComponent('bad id!')}`));
  });

  it('GET /v1/orders: 200 with and without the payments scope, 400, 401', async () => {
    expectValid('get', '/v1/orders', await getJson(`${mobile}/v1/orders`, auth));
    expectValid('get', '/v1/orders', await getJson(`${mobile}/v1/orders`, { authorization: `Bearer ${await tokenFor(platform, 'u1', [])}` }));
    expectValid('get', '/v1/orders', await getJson(`${mobile}/v1/orders?first=100`, auth));
    expectValid('get', '/v1/orders', await getJson(`${mobile}/v1/orders`));
  });

  it('POST /v1/orders and its progress stream: 202, every progress event, 400, 401', async () => {
    const started = await sendJson('POST', `${mobile}/v1/orders`, { items: [{ productId: 'p1', quantity: 1 }] }, auth);
    expect(started.status).toBe(202);
    expectValid('post', '/v1/orders', started);
    expectValid('post', '/v1/orders', await sendJson('POST', `${mobile}/v1/orders`, { items: [] }, auth));
    expectValid('post', '/v1/orders', await sendJson('POST', `${mobile}/v1/orders`, { items: [{ productId: 'p1', quantity: 1 }] }));

    const progressPath = '/v1/orders/{sagaId}/progress';
    const stream = await readSse(`${mobile}${started.body.progress}`, auth);
    expect(stream.status).toBe(200);
    const progress = ajv.getSchema('#/components/schemas/SagaProgress')!;
    const events = stream.events.filter((event) => event.event === 'progress');
    // Every stage of the saga is checked, not only whichever event came first.
    expect(events.map((event) => sagaStage(event.data))).toEqual(PLACE_ORDER_STAGES.completed);
    for (const event of events) expect({ event: event.data, valid: progress(event.data), errors: progress.errors ?? null }).toEqual({ event: event.data, valid: true, errors: null });
    expect(stream.events.at(-1)?.event).toBe('complete');
    expectValid('get', progressPath, await getJson(`${mobile}/v1/orders/${encodeURIComponent('bad id!')}/progress`, auth));
    expectValid('get', progressPath, await getJson(`${mobile}/v1/orders/no-such-saga/progress`, auth));
    expectValid('get', progressPath, await getJson(`${mobile}/v1/orders/${started.body.sagaId}/progress`));
  });

  it('GET /v1/openapi.json is itself described', async () => {
    expectValid('get', '/v1/openapi.json', await getJson(`${mobile}/v1/openapi.json`));
  });
});
