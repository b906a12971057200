/**
 * The OpenAPI 3.1 description of the mobile BFF's `/v1` endpoints, served at `/v1/openapi.json`.
 * Its schemas are JSON Schema 2020-12; test/integration/bff/mobileOpenapi.test.ts validates every
 * endpoint's real answers (success and error) against them, and checks that the paths here are
 * exactly the `/v1` routes the app serves.
 */
import express, { type Router } from 'express';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, ...json(ref('Error')) });
const page = (item: string) => ({
  type: 'object',
  required: ['items', 'next'],
  additionalProperties: false,
  properties: {
    items: { type: 'array', items: ref(item) },
    next: { type: ['string', 'null'], description: 'Opaque cursor for the next page (`after`), null on the last page.' },
  },
});
const etag = { ETag: { description: 'Strong validator; send it back as If-None-Match for a 304.', schema: { type: 'string' } } };
const ifNoneMatch = { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } };
const pageParameters = [
  { name: 'first', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 50, default: 10 } },
  { name: 'after', in: 'query', required: false, schema: { type: 'string', minLength: 1, maxLength: 512 } },
  ifNoneMatch,
];
const idPattern = '^[\\w-]+$';
const notModified = { description: 'Not modified (If-None-Match matched); no body.' };
const bearer = [{ bearer: [] }];

export const MOBILE_OPENAPI = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
  info: {
    title: 'Trellis mobile BFF',
    version: '1',
    description: 'Compact reads with opaque cursors and ETags, orders started as sagas with progress over Server-Sent Events.',
  },
  servers: [{ url: '/' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        additionalProperties: false,
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            additionalProperties: false,
            properties: { code: { type: 'string' }, message: { type: 'string' }, details: {}, correlationId: { type: 'string' } },
          },
        },
      },
      Me: {
        type: 'object',
        required: ['id', 'name'],
        additionalProperties: false,
        properties: { id: { type: 'string' }, name: { type: 'string' }, email: { type: 'string', description: 'Only with the users:email scope.' } },
      },
      Product: {
        type: 'object',
        required: ['id', 'name', 'price', 'inStock'],
        additionalProperties: false,
        properties: { id: { type: 'string' }, name: { type: 'string' }, price: { type: 'number' }, inStock: { type: 'integer', minimum: 0 } },
      },
      OrderSummary: {
        type: 'object',
        required: ['id', 'total', 'status', 'itemCount', 'payment'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          total: { type: 'number' },
          status: { type: 'string' },
          itemCount: { type: 'integer', minimum: 0 },
          payment: { type: ['string', 'null'], description: "The payment's state; null without the payments:read scope." },
        },
      },
      ProductPage: page('Product'),
      OrderPage: page('OrderSummary'),
      OrderRequest: {
        type: 'object',
        required: ['items'],
        additionalProperties: false,
        properties: {
          items: {
            type: 'array',
            minItems: 1,
            maxItems: 20,
            items: {
              type: 'object',
              required: ['productId', 'quantity'],
              additionalProperties: false,
              properties: { productId: { type: 'string', minLength: 1, maxLength: 64 }, quantity: { type: 'integer', minimum: 1, maximum: 100 } },
            },
          },
          paymentMethod: { type: 'string', minLength: 1, maxLength: 64, default: 'card-ok' },
        },
      },
      OrderStarted: {
        type: 'object',
        required: ['sagaId', 'state', 'progress'],
        additionalProperties: false,
        properties: { sagaId: { type: 'string' }, state: { type: 'string' }, progress: { type: 'string', description: 'Path of the progress stream.' } },
      },
      SagaProgress: {
        type: 'object',
        description: 'The data of one `event: progress` of the stream.',
        required: ['id', 'state', 'steps'],
        properties: {
          id: { type: 'string' },
          state: { enum: ['PENDING', 'RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'FAILED'] },
          steps: {
            type: 'array',
            items: { type: 'object', required: ['name', 'state'], properties: { name: { type: 'string' }, state: { type: 'string' } } },
          },
        },
      },
    },
  },
  paths: {
    '/v1/openapi.json': {
      get: { operationId: 'openApi', summary: 'This description.', responses: { '200': { description: 'The OpenAPI 3.1 document.', ...json({ type: 'object' }) } } },
    },
    '/v1/me': {
      get: {
        operationId: 'me',
        summary: 'The signed-in user.',
        security: bearer,
        parameters: [ifNoneMatch],
        responses: {
          '200': { description: 'The user.', headers: etag, ...json(ref('Me')) },
          '304': notModified,
          '401': error('No token, or a bad one.'),
          '404': error('No such user.'),
        },
      },
    },
    '/v1/products': {
      get: {
        operationId: 'products',
        summary: 'A page of products.',
        parameters: pageParameters,
        responses: { '200': { description: 'One page.', headers: etag, ...json(ref('ProductPage')) }, '304': notModified, '400': error('Bad paging parameters.') },
      },
    },
    '/v1/products/{id}': {
      get: {
        operationId: 'product',
        summary: 'One product.',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64, pattern: idPattern } }, ifNoneMatch],
        responses: {
          '200': { description: 'The product.', headers: etag, ...json(ref('Product')) },
          '304': notModified,
          '400': error('A malformed id.'),
          '404': error('No such product.'),
        },
      },
    },
    '/v1/orders': {
      get: {
        operationId: 'orders',
        summary: "A page of the caller's orders.",
        security: bearer,
        parameters: pageParameters,
        responses: {
          '200': { description: 'One page.', headers: etag, ...json(ref('OrderPage')) },
          '304': notModified,
          '400': error('Bad paging parameters.'),
          '401': error('No token, or a bad one.'),
        },
      },
      post: {
        operationId: 'placeOrder',
        summary: 'Starts the placeOrder saga; follow it at `progress`.',
        security: bearer,
        parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'One per user action; a retry with it returns the first saga.', schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,200}$' } }],
        requestBody: { required: true, ...json(ref('OrderRequest')) },
        responses: { '202': { description: 'The saga started.', ...json(ref('OrderStarted')) }, '400': error('A bad order.'), '401': error('No token, or a bad one.') },
      },
    },
    '/v1/orders/{sagaId}/progress': {
      get: {
        operationId: 'orderProgress',
        summary: 'The saga of an order, as Server-Sent Events: `event: progress` per state (data: SagaProgress), then `event: complete`.',
        security: bearer,
        parameters: [{ name: 'sagaId', in: 'path', required: true, schema: { type: 'string', maxLength: 64, pattern: idPattern } }],
        responses: {
          '200': { description: 'The event stream.', content: { 'text/event-stream': { schema: { type: 'string', description: 'Each `event: progress` carries a SagaProgress (components/schemas) as its data.' } } } },
          '400': error('A malformed saga id.'),
          '401': error('No token, or a bad one.'),
          '404': error('No such saga.'),
        },
      },
    },
  },
} as const;

export function openApiRoute(): Router {
  const router = express.Router();
  router.get('/v1/openapi.json', (_req, res) => {
    res.json(MOBILE_OPENAPI);
  });
  return router;
}
