/** What keeps cached entries apart besides the caller: every header the rules send but the per-request ones and the credentials. */
import { cacheVary } from '../../../../gateway/entityCache';

describe('cacheVary', () => {
  it('is empty for the credentials and per-request headers alone (the caller keys those by identity and scopes)', () => {
    expect(cacheVary({ authorization: 'Bearer t', cookie: 's=1', traceparent: '00-a-b-01', tracestate: 'x=1', 'x-correlation-id': 'c1' })).toBe('');
  });

  it('names any other header, in name order, so callers told different things never share', () => {
    expect(cacheVary({ 'x-tenant': 'a', 'accept-language': 'de', authorization: 'Bearer t' })).toBe('[["accept-language","de"],["x-tenant","a"]]');
    expect(cacheVary({ 'x-tenant': 'a' })).not.toBe(cacheVary({ 'x-tenant': 'b' }));
    // A credential a rule renamed is another header: kept apart per value, never shared.
    expect(cacheVary({ 'x-auth': 'Bearer u1' })).not.toBe(cacheVary({ 'x-auth': 'Bearer u2' }));
  });
});
