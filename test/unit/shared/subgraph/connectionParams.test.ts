/** The headers of a graphql-ws connection, wherever clients put them in connectionParams (the gateway and the kit read them alike). */
import { connectionParamsHeaders } from '@trellis/kit/internal/subgraph';

describe('connectionParamsHeaders', () => {
  it('reads headers from { headers }, names matched case-insensitively, non-strings dropped', () => {
    const header = connectionParamsHeaders({ headers: { Authorization: 'Bearer a', TraceParent: '00-x', 'x-count': 3 } });
    expect(header('authorization')).toBe('Bearer a');
    expect(header('Traceparent')).toBe('00-x');
    expect(header('x-count')).toBeUndefined();
  });

  it.each([
    ['authorization', { authorization: 'Bearer b' }],
    ['Authorization', { Authorization: 'Bearer b' }],
  ])('reads the token from a top-level %s (Apollo Router)', (_name, params) => {
    expect(connectionParamsHeaders(params)('authorization')).toBe('Bearer b');
  });

  it('prefers the token in { headers } to a top-level one, and takes the top-level one when headers has none', () => {
    expect(connectionParamsHeaders({ headers: { authorization: 'Bearer nested' }, authorization: 'Bearer top' })('authorization')).toBe('Bearer nested');
    expect(connectionParamsHeaders({ headers: { traceparent: '00-x' }, Authorization: 'Bearer top' })('authorization')).toBe('Bearer top');
    expect(connectionParamsHeaders({ headers: { authorization: 42 }, authorization: 'Bearer top' })('authorization')).toBe('Bearer top');
  });

  it('reads nothing from absent params, a headers value that is no object, or a top-level token that is no string', () => {
    expect(connectionParamsHeaders(undefined)('authorization')).toBeUndefined();
    expect(connectionParamsHeaders({ headers: 'authorization: Bearer x' })('authorization')).toBeUndefined();
    expect(connectionParamsHeaders({ authorization: { token: 'x' } })('authorization')).toBeUndefined();
    expect(connectionParamsHeaders({ token: 'Bearer x' })('authorization')).toBeUndefined();
    // Only the token is read from the top level: other names there are not headers.
    expect(connectionParamsHeaders({ traceparent: '00-x' })('traceparent')).toBeUndefined();
  });
});
