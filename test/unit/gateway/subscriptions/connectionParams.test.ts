/** The token wherever graphql-ws clients put it in connectionParams. */
import { connectionHeaders } from '../../../../gateway/subscriptions/connectionParams';

describe('connectionHeaders', () => {
  it('reads headers from { headers }, names lower-cased, non-strings dropped', () => {
    const headers = connectionHeaders({ headers: { Authorization: 'Bearer a', TraceParent: '00-x', 'x-count': 3 } });
    expect(Object.fromEntries(headers)).toEqual({ authorization: 'Bearer a', traceparent: '00-x', 'x-count': undefined });
  });

  it.each([
    ['authorization', { authorization: 'Bearer b' }],
    ['Authorization', { Authorization: 'Bearer b' }],
  ])('reads the token from a top-level %s (Apollo Router)', (_name, params) => {
    expect(connectionHeaders(params).get('authorization')).toBe('Bearer b');
  });

  it('prefers the token in { headers } to a top-level one, and takes the top-level one when headers has none', () => {
    expect(connectionHeaders({ headers: { authorization: 'Bearer nested' }, authorization: 'Bearer top' }).get('authorization')).toBe('Bearer nested');
    expect(connectionHeaders({ headers: { traceparent: '00-x' }, Authorization: 'Bearer top' }).get('authorization')).toBe('Bearer top');
    expect(connectionHeaders({ headers: { authorization: 42 }, authorization: 'Bearer top' }).get('authorization')).toBe('Bearer top');
  });

  it('reads nothing from absent params, a headers value that is no object, or a top-level token that is no string', () => {
    expect(connectionHeaders(undefined).size).toBe(0);
    expect(connectionHeaders({ headers: 'authorization: Bearer x' }).size).toBe(0);
    expect(connectionHeaders({ authorization: { token: 'x' } }).get('authorization')).toBeUndefined();
    expect(connectionHeaders({ token: 'Bearer x' }).get('authorization')).toBeUndefined();
  });
});
