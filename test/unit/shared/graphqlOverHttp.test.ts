/** GraphQL-over-HTTP negotiation rules (shared/http/graphqlOverHttp.ts); over real HTTP in test/integration/gateway/graphqlOverHttp.test.ts. */
import express, { type Request, type Response } from 'express';
import {
  acceptedAnswers,
  answerFor,
  answerMediaType,
  answerStatus,
  GraphQLMediaType,
  MultipartSpec,
  negotiateGraphQLAnswer,
  negotiatedAnswers,
  negotiatedMediaType,
} from '@trellis/kit/internal/http/graphqlOverHttp';

/** An express request with only headers: `req.accepts` is express's own negotiation. */
const requestAccepting = (accept?: string): Request => Object.assign(Object.create(express.request) as Request, { headers: accept === undefined ? {} : { accept } });

describe('answerMediaType', () => {
  it.each([
    [undefined, GraphQLMediaType.JSON],
    ['*/*', GraphQLMediaType.JSON],
    ['application/*', GraphQLMediaType.JSON],
    ['application/json', GraphQLMediaType.JSON],
    ['application/json; charset=utf-8', GraphQLMediaType.JSON],
    ['application/graphql-response+json', GraphQLMediaType.GRAPHQL_RESPONSE_JSON],
    ['application/graphql-response+json, application/json;q=0.9', GraphQLMediaType.GRAPHQL_RESPONSE_JSON],
    ['application/graphql-response+json;q=0.5, application/json', GraphQLMediaType.JSON],
    ['text/html', undefined],
    ['application/json; charset=latin1', undefined],
    ['multipart/mixed;deferSpec=20220824', undefined],
  ])('Accept %s answers %s', (accept, expected) => {
    expect(answerMediaType(requestAccepting(accept))).toBe(expected);
  });
});

describe('answerStatus', () => {
  const parseError = { errors: [{ message: 'Syntax Error', extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] };
  const illFormed = { errors: [{ message: 'Missing query', extensions: { code: 'BAD_REQUEST' } }] };

  it('a request error is 200 under application/json, 400 under application/graphql-response+json', () => {
    expect(answerStatus(GraphQLMediaType.JSON, 400, () => parseError)).toBe(200);
    expect(answerStatus(GraphQLMediaType.GRAPHQL_RESPONSE_JSON, 400, () => parseError)).toBe(400);
  });

  it('an ill-formed request stays 400 under both, and so does a 400 with an error without a code or no error at all', () => {
    expect(answerStatus(GraphQLMediaType.JSON, 400, () => illFormed)).toBe(400);
    expect(answerStatus(GraphQLMediaType.JSON, 400, () => ({ errors: [...parseError.errors, ...illFormed.errors] }))).toBe(400);
    expect(answerStatus(GraphQLMediaType.JSON, 400, () => ({ errors: [{ message: 'no code' }] }))).toBe(400);
    expect(answerStatus(GraphQLMediaType.JSON, 400, () => ({}))).toBe(400);
    expect(answerStatus(GraphQLMediaType.JSON, 400, () => null)).toBe(400);
  });

  it('a batch is 200 under application/json when every error in it is a request error', () => {
    expect(answerStatus(GraphQLMediaType.JSON, 400, () => [{ data: { a: 1 } }, parseError])).toBe(200);
    expect(answerStatus(GraphQLMediaType.JSON, 400, () => [parseError, illFormed])).toBe(400);
  });

  it('other statuses pass through under both, and the body is not read for them', () => {
    const unread = () => {
      throw new Error('read');
    };
    for (const status of [200, 401, 403, 413, 429, 503]) {
      expect(answerStatus(GraphQLMediaType.JSON, status, unread)).toBe(status);
      expect(answerStatus(GraphQLMediaType.GRAPHQL_RESPONSE_JSON, status, unread)).toBe(status);
    }
    expect(answerStatus(undefined, 400, unread)).toBe(400);
  });
});

const ALL_MULTIPART = [MultipartSpec.SUBSCRIPTION, MultipartSpec.DEFER_20220824, MultipartSpec.INCREMENTAL_V0_2];
const { SUBSCRIPTION, DEFER_20220824, INCREMENTAL_V0_2 } = MultipartSpec;
const { JSON: JSON_TYPE, GRAPHQL_RESPONSE_JSON } = GraphQLMediaType;

describe('acceptedAnswers', () => {
  it.each([
    // What Apollo Client 4 sends: a subscription, a query with @defer under each of its incremental handlers, any other query.
    ['multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9', GRAPHQL_RESPONSE_JSON, [SUBSCRIPTION]],
    ['multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9', GRAPHQL_RESPONSE_JSON, [DEFER_20220824]],
    ['multipart/mixed;incrementalSpec=v0.2,application/graphql-response+json,application/json;q=0.9', GRAPHQL_RESPONSE_JSON, [INCREMENTAL_V0_2]],
    ['application/graphql-response+json,application/json;q=0.9', GRAPHQL_RESPONSE_JSON, []],
    // Router's documented header, quoted and spaced.
    ['multipart/mixed; boundary="graphql"; subscriptionSpec="1.0", application/json', JSON_TYPE, [SUBSCRIPTION]],
    ['multipart/mixed;subscriptionSpec="1.0"', undefined, [SUBSCRIPTION]],
    ['Multipart/Mixed; SubscriptionSpec=1.0', undefined, [SUBSCRIPTION]],
    // A comma inside a quoted parameter does not split the entry.
    ['multipart/mixed;boundary="a,b";deferSpec=20220824', undefined, [DEFER_20220824]],
    // Both incremental formats: the client's preference by q, then by order.
    ['multipart/mixed;deferSpec=20220824, multipart/mixed;incrementalSpec=v0.2', undefined, [DEFER_20220824, INCREMENTAL_V0_2]],
    ['multipart/mixed;deferSpec=20220824;q=0.5, multipart/mixed;incrementalSpec=v0.2', undefined, [INCREMENTAL_V0_2, DEFER_20220824]],
    // Not admitted: q=0, a version we do not speak, no format named, a wildcard.
    ['multipart/mixed;subscriptionSpec=1.0;q=0, application/json', JSON_TYPE, []],
    ['multipart/mixed;subscriptionSpec=2.0;deferSpec=20230101', undefined, []],
    ['multipart/mixed', undefined, []],
    ['*/*', JSON_TYPE, []],
    [undefined, JSON_TYPE, []],
  ])('Accept %s: JSON %s, multipart %j', (accept, json, multipart) => {
    expect(acceptedAnswers(requestAccepting(accept), ALL_MULTIPART)).toEqual({ json, multipart });
  });

  it('admits only the multipart formats the server offers', () => {
    const accept = 'multipart/mixed;subscriptionSpec=1.0, multipart/mixed;deferSpec=20220824';
    expect(acceptedAnswers(requestAccepting(accept), [SUBSCRIPTION]).multipart).toEqual([SUBSCRIPTION]);
    expect(acceptedAnswers(requestAccepting(accept)).multipart).toEqual([]);
  });
});

describe('answerFor', () => {
  const subscription = { isSubscription: true, isDeferred: false };
  const deferred = { isSubscription: false, isDeferred: true };
  const plain = { isSubscription: false, isDeferred: false };
  const single = (mediaType: GraphQLMediaType) => ({ kind: 'single', mediaType });
  const streamed = (spec: MultipartSpec) => ({ kind: 'multipart', spec });

  it('a client that admits JSON and multipart: a subscription or a deferred operation streams, any other is JSON', () => {
    const accepted = { json: GRAPHQL_RESPONSE_JSON, multipart: [SUBSCRIPTION, INCREMENTAL_V0_2, DEFER_20220824] };
    expect(answerFor(accepted, subscription)).toEqual(streamed(SUBSCRIPTION));
    expect(answerFor(accepted, deferred)).toEqual(streamed(INCREMENTAL_V0_2));
    expect(answerFor(accepted, plain)).toEqual(single(GRAPHQL_RESPONSE_JSON));
  });

  it('a client that admits only JSON gets JSON for every operation (a deferred one whole)', () => {
    const accepted = { json: JSON_TYPE, multipart: [] };
    for (const operation of [subscription, deferred, plain]) expect(answerFor(accepted, operation)).toEqual(single(JSON_TYPE));
  });

  it('a client that admits only multipart: what it can read, else nothing (406)', () => {
    expect(answerFor({ multipart: [SUBSCRIPTION] }, subscription)).toEqual(streamed(SUBSCRIPTION));
    expect(answerFor({ multipart: [SUBSCRIPTION] }, deferred)).toBeUndefined();
    expect(answerFor({ multipart: [SUBSCRIPTION] }, plain)).toBeUndefined();
    expect(answerFor({ multipart: [DEFER_20220824] }, plain)).toEqual(streamed(DEFER_20220824));
    expect(answerFor({ multipart: [DEFER_20220824] }, subscription)).toBeUndefined();
  });
});

describe('negotiateGraphQLAnswer', () => {
  /** Runs the middleware: 'next' when it lets the request through, else the status it answered with; `locals` as it left them. */
  const negotiate = (accept: string | undefined, multipart?: MultipartSpec[]) => {
    const req = Object.assign(requestAccepting(accept), { method: 'POST' });
    req.headers['content-type'] = 'application/json';
    let outcome: number | 'next' | undefined;
    const res = {
      locals: {},
      statusCode: 200,
      setHeader: () => res,
      status: (code: number) => Object.assign(res, { statusCode: code }),
      json: () => void (outcome = res.statusCode),
    };
    negotiateGraphQLAnswer(multipart && { multipart })(req, res as unknown as Response, () => void (outcome = 'next'));
    return { outcome, answers: negotiatedAnswers(res as unknown as Response), mediaType: negotiatedMediaType(res as unknown as Response) };
  };

  it('a server that offers no multipart (a kit subgraph) refuses a multipart-only Accept with 406 before anything runs', () => {
    expect(negotiate('multipart/mixed;subscriptionSpec=1.0').outcome).toBe(406);
  });

  it('a server that offers multipart subscriptions takes a multipart-only Accept, refusals after it in application/json', () => {
    expect(negotiate('multipart/mixed;subscriptionSpec=1.0', [SUBSCRIPTION])).toEqual({ outcome: 'next', answers: { json: undefined, multipart: [SUBSCRIPTION] }, mediaType: JSON_TYPE });
    expect(negotiate('multipart/mixed;deferSpec=20220824', [SUBSCRIPTION]).outcome).toBe(406);
  });

  it('records both what JSON type and which multipart formats the client admits', () => {
    const accept = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9';
    expect(negotiate(accept, ALL_MULTIPART)).toEqual({ outcome: 'next', answers: { json: GRAPHQL_RESPONSE_JSON, multipart: [SUBSCRIPTION] }, mediaType: GRAPHQL_RESPONSE_JSON });
  });
});
