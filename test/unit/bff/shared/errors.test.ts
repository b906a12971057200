/** The BFFs' JSON errors: each thrown thing becomes the status, code and body a client developer acts on. */
import express from 'express';
import { z } from 'zod';
import { TrellisError } from '@trellis/kit';
import { badRequest, errorHandler, HttpError, notFound, unauthenticated, unknownRoute, validate } from '../../../../bff/shared';
import { recordingLogger, serveOnLoopback, type Loopback } from '../../../support/loopback';

/** Serves one route that throws `thrown`, behind the BFF error handler; returns what a client gets. */
async function answerTo(thrown: unknown) {
  const { logger, lines } = recordingLogger();
  const app = express();
  app.use((_req, res, next) => {
    res.locals.correlationId = 'corr-1';
    next();
  });
  app.use(express.json({ limit: '10b' }));
  app.all('/boom', (_req, _res, next) => next(thrown));
  app.use(unknownRoute);
  app.use(errorHandler(logger));
  let loopback: Loopback | undefined;
  try {
    loopback = await serveOnLoopback(app);
    const response = await fetch(`${loopback.url}/boom`);
    const text = await response.text();
    return { status: response.status, retryAfter: response.headers.get('retry-after'), text, body: JSON.parse(text || 'null'), lines };
  } finally {
    await loopback?.close();
  }
}

describe('BFF HTTP errors', () => {
  it('builds the three common errors with their status and code', () => {
    expect(badRequest('no', ['d'])).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: 'no', details: ['d'], retriable: false });
    expect(unauthenticated('who')).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', message: 'who' });
    expect(notFound('gone')).toMatchObject({ status: 404, code: 'NOT_FOUND', message: 'gone' });
    const error = new HttpError(503, 'X', 'later', { retriable: true, retryAfterSec: 7, cause: 'c' });
    expect(error).toMatchObject({ retriable: true, retryAfterSec: 7, cause: 'c' });
    expect(error).toBeInstanceOf(TrellisError);
  });

  it('validate returns the parsed value, or a 400 naming every wrong field (the root as "(root)")', () => {
    const schema = z.object({ a: z.number(), b: z.object({ c: z.string() }) });
    expect(validate(schema, { a: 1, b: { c: 'x' } }, 'thing')).toEqual({ a: 1, b: { c: 'x' } });
    let caught: HttpError | undefined;
    try {
      validate(schema, { a: 'no', b: {} }, 'thing');
    } catch (error) {
      caught = error as HttpError;
    }
    expect(caught).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: 'invalid thing' });
    expect(caught!.details).toEqual([
      { path: 'a', message: 'Expected number, received string' },
      { path: 'b.c', message: 'Required' },
    ]);
    expect(() => validate(z.string(), 5, 'name')).toThrow(expect.objectContaining({ details: [{ path: '(root)', message: 'Expected string, received number' }] }));
  });

  it('answers an HttpError with its status, code, message, details, correlation id and Retry-After', async () => {
    const answer = await answerTo(new HttpError(429, 'RATE_LIMITED', 'slow down', { details: { n: 1 }, retryAfterSec: 3 }));
    expect(answer).toMatchObject({ status: 429, retryAfter: '3', body: { error: { code: 'RATE_LIMITED', message: 'slow down', details: { n: 1 }, correlationId: 'corr-1' } } });
    expect(answer.lines).toEqual([]);
    expect((await answerTo(badRequest('bad'))).retryAfter).toBeNull();
  });

  it('maps Trellis errors by code, and any other retriable one to 503 with Retry-After 1', async () => {
    const cases: Array<[TrellisError, number, string | null]> = [
      [new TrellisError('UNAUTHENTICATED', 'm'), 401, null],
      [new TrellisError('BAD_USER_INPUT', 'm'), 400, null],
      [new TrellisError('NOT_FOUND', 'm'), 404, null],
      [new TrellisError('BACKEND_UNAVAILABLE', 'm', { retriable: true }), 503, '1'],
      [new TrellisError('MESSAGE_INVALID', 'm'), 500, null],
    ];
    for (const [error, status, retryAfter] of cases) {
      const answer = await answerTo(error);
      expect(answer).toMatchObject({ status, retryAfter, body: { error: { code: error.code, message: 'm' } } });
      expect(answer.lines).toEqual([]);
    }
  });

  it('hides anything unknown behind a logged 500 without a stack trace', async () => {
    const answer = await answerTo(new Error('secret detail at /srv/app.js:1'));
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error', correlationId: 'corr-1' } });
    expect(answer.text).not.toContain('secret');
    expect(answer.lines).toEqual([expect.objectContaining({ level: 'error', msg: 'request failed', path: '/boom' })]);
  });

  it("keeps body-parser's errors as the client's own: 413, 400 BAD_JSON, 415", async () => {
    expect((await answerTo({ type: 'entity.too.large', limit: 10 })).body.error).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than 10 bytes', correlationId: 'corr-1' });
    expect((await answerTo({ type: 'entity.parse.failed' })).body.error).toMatchObject({ code: 'BAD_JSON', message: 'request body is not valid JSON' });
    for (const type of ['charset.unsupported', 'encoding.unsupported']) {
      const answer = await answerTo({ type });
      expect(answer).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'request body must be UTF-8 JSON' } } });
    }
    expect((await answerTo({ type: 'entity.too.large', limit: 10 })).status).toBe(413);
    expect((await answerTo({ type: 'entity.parse.failed' })).status).toBe(400);
  });

  it('leaves a response already started to express, which cuts the connection instead of writing a second body', async () => {
    const { logger, lines } = recordingLogger();
    const app = express();
    app.get('/boom', (_req, res, next) => {
      res.write('partial');
      next(badRequest('late'));
    });
    app.use(errorHandler(logger));
    const loopback = await serveOnLoopback(app);
    try {
      const response = await fetch(`${loopback.url}/boom`);
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow('terminated');
      expect(lines).toEqual([]);
    } finally {
      await loopback.close();
    }
  });

  it('answers an unknown route with a 404 naming the method and path', async () => {
    const { logger } = recordingLogger();
    const app = express();
    app.use(unknownRoute);
    app.use(errorHandler(logger));
    const loopback = await serveOnLoopback(app);
    try {
      const response = await fetch(`${loopback.url}/nowhere?x=1`, { method: 'DELETE' });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route for DELETE /nowhere' } });
    } finally {
      await loopback.close();
    }
  });
});
