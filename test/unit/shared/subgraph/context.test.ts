/** The context a subgraph's resolvers receive: who calls (verified again here), and the request's correlation id and trace headers. */
import type { GraphQLError } from 'graphql';
import { AuthenticationError, SigningKeysUnavailableError } from '@trellis/kit/internal/auth/errors';
import {
  anonymousIdentity,
  bearerIdentity,
  buildBaseContext,
  connectionParamsHeaders,
  operationHeaders,
  type HeaderReader,
} from '@trellis/kit/internal/subgraph/context';
import { recordingLogger } from '../../../support/recordingLogger';

const headers =
  (values: Record<string, string>): HeaderReader =>
  (name) =>
    values[name];

describe('bearerIdentity', () => {
  const verifier = (outcome: (token: string) => Promise<{ id: string; scopes: string[] }>) => {
    const tokens: string[] = [];
    return { tokens, identify: bearerIdentity({ verify: (token) => (tokens.push(token), outcome(token)) }) };
  };

  it('names the caller the forwarded bearer token names', async () => {
    const { tokens, identify } = verifier(async () => ({ id: 'u1', scopes: ['orders:read'] }));
    await expect(identify(headers({ authorization: 'Bearer abc.def.ghi' }))).resolves.toEqual({
      id: 'u1',
      scopes: ['orders:read'],
    });
    expect(tokens).toEqual(['abc.def.ghi']);
  });

  it('takes a request without a bearer token as anonymous, verifying nothing', async () => {
    const { tokens, identify } = verifier(async () => ({ id: 'u1', scopes: [] }));
    await expect(identify(headers({}))).resolves.toBeNull();
    expect(tokens).toEqual([]);
  });

  it('refuses a bad token with UNAUTHENTICATED and 401', async () => {
    const { identify } = verifier(async () => {
      throw new AuthenticationError('token expired (exp is in the past)');
    });
    const refusal = (await Promise.resolve(identify(headers({ authorization: 'Bearer old' }))).catch(
      (error: unknown) => error,
    )) as GraphQLError;
    expect(refusal.message).toBe('token expired (exp is in the past)');
    expect(refusal.extensions).toEqual({ code: 'UNAUTHENTICATED', http: { status: 401 } });
  });

  it('answers 503 while the issuer keys cannot be had', async () => {
    const { identify } = verifier(async () => {
      throw new SigningKeysUnavailableError('connection refused');
    });
    const refusal = (await Promise.resolve(identify(headers({ authorization: 'Bearer t' }))).catch(
      (error: unknown) => error,
    )) as GraphQLError;
    expect(refusal.extensions).toEqual({ code: 'BACKEND_UNAVAILABLE', http: { status: 503 } });
  });

  it('trusts no identity header without an issuer', () => {
    expect(anonymousIdentity(headers({ authorization: 'Bearer t', 'x-user-id': 'u1' }))).toBeNull();
  });
});

describe('buildBaseContext', () => {
  it('forwards to a peer the caller’s authorization (only for a verified caller), the correlation id and the trace', async () => {
    const { logger } = recordingLogger();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const signedIn = await buildBaseContext(headers({ authorization: 'Bearer t', 'x-correlation-id': 'req-1', traceparent }), logger, () => ({ id: 'u1', scopes: [] }));
    expect(signedIn.forward).toEqual({ authorization: 'Bearer t', 'x-correlation-id': 'req-1', traceparent });
    const anonymous = await buildBaseContext(headers({ authorization: 'Bearer t', 'x-correlation-id': 'req-2' }), logger, () => null);
    expect(anonymous.forward).toEqual({ 'x-correlation-id': 'req-2' });
  });

  it('carries the caller, the correlation id, the trace and idempotency headers, and a logger that names the correlation id', async () => {
    const { logger, lines } = recordingLogger();
    const context = await buildBaseContext(
      headers({
        'x-correlation-id': 'req-42',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'idempotency-key': 'k1',
      }),
      logger,
      () => ({ id: 'u1', scopes: [] }),
    );
    expect(context).toMatchObject({
      correlationId: 'req-42',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      idempotencyKey: 'k1',
      user: { id: 'u1', scopes: [] },
    });
    context.logger.info('resolving');
    expect(lines).toEqual([expect.objectContaining({ msg: 'resolving', correlationId: 'req-42' })]);
  });

  it('makes up a correlation id when the request has none or an unusable one', async () => {
    const { logger } = recordingLogger();
    const none = await buildBaseContext(headers({}), logger, anonymousIdentity);
    const bad = await buildBaseContext(headers({ 'x-correlation-id': 'no spaces allowed' }), logger, anonymousIdentity);
    expect(none.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(bad.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.user).toBeNull();
  });

  it('lets a resolver require that the caller owns a record', async () => {
    const { logger } = recordingLogger();
    const context = await buildBaseContext(headers({}), logger, () => ({ id: 'u1', scopes: [] }));
    expect(() => context.requireOwner('u1', 'order o1')).not.toThrow();
    expect(() => context.requireOwner('u2', 'order o2')).toThrow('order o2 belongs to another user');
    const anonymous = await buildBaseContext(headers({}), logger, anonymousIdentity);
    expect(() => anonymous.requireOwner('u1', 'order o1')).toThrow('order o1 belongs to a user: sign in as them');
  });
});

describe('WebSocket headers', () => {
  it('reads connectionParams.headers by name whatever its case, ignoring values that are not text', () => {
    const header = connectionParamsHeaders({ headers: { Authorization: 'Bearer t', 'X-Count': 3 } });
    expect(header('authorization')).toBe('Bearer t');
    expect(header('AUTHORIZATION')).toBe('Bearer t');
    expect(header('x-count')).toBeUndefined();
    expect(connectionParamsHeaders(undefined)('authorization')).toBeUndefined();
    expect(connectionParamsHeaders({})('authorization')).toBeUndefined();
  });

  it("takes an operation's own correlation id and trace context from its extensions, and the caller only from the connection", () => {
    const header = operationHeaders(
      {
        headers: {
          authorization: 'Bearer connection',
          'x-correlation-id': 'connection-id',
          traceparent: 'connection-trace',
        },
      },
      {
        headers: {
          Authorization: 'Bearer smuggled',
          'X-Correlation-Id': 'op-7',
          tracestate: 'k=v',
          baggage: 'b=1',
          traceparent: 'op-trace',
        },
      },
    );
    expect(header('authorization')).toBe('Bearer connection');
    expect(header('x-correlation-id')).toBe('op-7');
    expect(header('traceparent')).toBe('op-trace');
    expect(header('TraceState')).toBe('k=v');
    expect(header('baggage')).toBe('b=1');
  });

  it("falls back to the connection's headers for what the operation does not send", () => {
    const connection = { headers: { 'x-correlation-id': 'connection-id', traceparent: 'connection-trace' } };
    expect(operationHeaders(connection, null)('x-correlation-id')).toBe('connection-id');
    expect(operationHeaders(connection, {})('traceparent')).toBe('connection-trace');
    expect(operationHeaders(connection, { headers: { traceparent: 7 } })('traceparent')).toBe('connection-trace');
    expect(operationHeaders(undefined, undefined)('traceparent')).toBeUndefined();
  });
});
