/** GraphQL-over-HTTP negotiation rules (shared/http/graphqlOverHttp.ts); over real HTTP in test/integration/gateway/graphqlOverHttp.test.ts. */
import express, { type Request } from 'express';
import { answerMediaType, answerStatus, GraphQLMediaType } from '@trellis/kit/internal/http/graphqlOverHttp';

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
