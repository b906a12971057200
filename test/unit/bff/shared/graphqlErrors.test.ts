/** How a gateway answer becomes a BFF answer: data (maybe partial), or the HTTP error its first GraphQL error stands for. */
import { describePartial, httpErrorOf, requireData } from '../../../../bff/shared';

describe('gateway answers to BFF answers', () => {
  it.each([
    ['UNAUTHENTICATED', 401],
    ['FORBIDDEN', 403],
    ['BAD_USER_INPUT', 400],
    ['GRAPHQL_VALIDATION_FAILED', 400],
    ['GRAPHQL_PARSE_FAILED', 400],
    ['NOT_FOUND', 404],
  ])('answers %s with %i, keeping the code and message, without Retry-After', (code, status) => {
    const error = httpErrorOf([{ message: `m ${code}`, extensions: { code } }, { message: 'second', extensions: { code: 'NOT_FOUND' } }]);
    expect(error).toMatchObject({ status, code, message: `m ${code}`, retryAfterSec: undefined });
  });

  it('answers SUBGRAPH_UNAVAILABLE with 503 and Retry-After 1', () => {
    expect(httpErrorOf([{ message: 'orders down', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }])).toMatchObject({ status: 503, code: 'SUBGRAPH_UNAVAILABLE', message: 'orders down', retryAfterSec: 1 });
  });

  it("answers an unknown code, or none, as the gateway's problem: 502 UPSTREAM_ERROR", () => {
    expect(httpErrorOf([{ message: 'odd', extensions: { code: 'WHATEVER' } }])).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR', message: 'odd', retryAfterSec: undefined });
    expect(httpErrorOf([{ message: 'bare' }])).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR', message: 'bare' });
    expect(httpErrorOf([])).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR', message: 'the gateway answered without data' });
  });

  it('returns the data, partial only when errors came with it', () => {
    expect(requireData({ status: 200, body: { data: { a: 1 } } })).toEqual({ data: { a: 1 }, partial: false, errors: [] });
    const errors = [{ message: 'x', path: ['a'] }];
    expect(requireData({ status: 200, body: { data: { a: null }, errors } })).toEqual({ data: { a: null }, partial: true, errors });
  });

  it('throws the first error when there is no data (null or missing)', () => {
    expect(() => requireData({ status: 200, body: { data: null, errors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] } })).toThrow(expect.objectContaining({ status: 403, message: 'no' }));
    expect(() => requireData({ status: 400, body: {} })).toThrow(expect.objectContaining({ status: 502, message: 'the gateway answered without data' }));
  });

  it('describes failed fields by dotted path and code, nothing else', () => {
    expect(describePartial([{ message: 'm', path: ['user', 0, 'email'], extensions: { code: 'FORBIDDEN', stacktrace: ['secret'] } }, { message: 'bare' }])).toEqual([
      { path: 'user.0.email', code: 'FORBIDDEN', message: 'm' },
      { path: undefined, code: undefined, message: 'bare' },
    ]);
  });
});
