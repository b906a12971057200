/** Which in-flight subgraph queries may share one call: never two whose rule-selected headers differ. */
import { dedupKey } from '../../../../gateway/datasource/subgraphDataSource';

describe('dedupKey', () => {
  const body = '{"query":"{ users { id } }"}';

  it('is the same for two requests that differ only in their trace and correlation headers', () => {
    const a = dedupKey('users', { authorization: 'Bearer t', traceparent: '00-a-b-01', tracestate: 'x=1', 'x-correlation-id': 'c1' }, body);
    const b = dedupKey('users', { 'x-correlation-id': 'c2', traceparent: '00-c-d-01', authorization: 'Bearer t' }, body);
    expect(a).toBe(b);
  });

  it.each([
    ['another token', { authorization: 'Bearer u2' }],
    ['a token renamed by a rule', { 'x-auth': 'Bearer u2' }],
    ['another tenant header', { authorization: 'Bearer t', 'x-tenant': 'b' }],
    ['no token', {}],
  ])('differs for %s', (_what, headers: Record<string, string>) => {
    expect(dedupKey('users', headers, body)).not.toBe(dedupKey('users', { authorization: 'Bearer t', 'x-tenant': 'a' }, body));
  });

  it('keeps apart two callers whose tokens a rule renamed (the old key read only `authorization`)', () => {
    expect(dedupKey('users', { 'x-auth': 'Bearer u1' }, body)).not.toBe(dedupKey('users', { 'x-auth': 'Bearer u2' }, body));
  });

  it('does not depend on the order headers were set in', () => {
    expect(dedupKey('users', { a: '1', b: '2' }, body)).toBe(dedupKey('users', { b: '2', a: '1' }, body));
  });

  it('differs by subgraph and by body', () => {
    expect(dedupKey('users', {}, body)).not.toBe(dedupKey('catalog', {}, body));
    expect(dedupKey('users', {}, body)).not.toBe(dedupKey('users', {}, '{"query":"{ me { id } }"}'));
  });
});
