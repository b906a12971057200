/** HEADER_RULES applied: each rule shape, the order of `all` then the subgraph's, and the default list. */
import { DEFAULT_HEADER_RULES, loadConfig, type HeaderRules } from '@trellis/kit/internal/config';
import { SubgraphHeaders } from '../../../../gateway/headers';

const reader = (headers: Record<string, string>) => (name: string) => headers[name];
const rules = (json: unknown): HeaderRules => loadConfig({ HEADER_RULES: JSON.stringify(json) }).gateway.headerRules;

describe('SubgraphHeaders', () => {
  const caller = { traceparent: 'tp', tracestate: 'ts', authorization: 'Bearer t', 'idempotency-key': 'k1', cookie: 'secret', 'x-tenant': 'acme' };

  it('by default forwards traceparent, tracestate, authorization and idempotency-key to every subgraph, and nothing else', () => {
    const headers = new SubgraphHeaders({ all: DEFAULT_HEADER_RULES, subgraphs: {} });
    expect(headers.incoming).toEqual(['traceparent', 'tracestate', 'authorization', 'idempotency-key']);
    const captured = headers.capture(reader(caller));
    expect(captured).toEqual({ traceparent: 'tp', tracestate: 'ts', authorization: 'Bearer t', 'idempotency-key': 'k1' });
    expect(headers.forSubgraph('users', captured, 'corr-1')).toEqual({ ...captured, 'x-correlation-id': 'corr-1' });
    expect(headers.forSubgraph('catalog', captured)).toEqual(captured);
  });

  it('propagates a named header, renamed, or its default when the caller sent none', () => {
    const headers = new SubgraphHeaders(rules({ all: { request: [{ propagate: { named: 'X-Tenant', rename: 'X-Org' } }, { propagate: { named: 'x-region', default: 'eu' } }] } }));
    expect(headers.forSubgraph('users', headers.capture(reader(caller)))).toEqual({ 'x-org': 'acme', 'x-region': 'eu' });
    expect(headers.forSubgraph('users', headers.capture(reader({ 'x-region': 'us' })))).toEqual({ 'x-region': 'us' });
  });

  it('sends nothing for a propagated header the caller did not send and that has no default', () => {
    const headers = new SubgraphHeaders(rules({ all: { request: [{ propagate: { named: 'x-tenant' } }] } }));
    expect(headers.forSubgraph('users', headers.capture(reader({})))).toStrictEqual({});
    // An empty header is as good as none.
    expect(headers.capture(reader({ 'x-tenant': '' }))).toStrictEqual({});
  });

  it("runs the subgraph's rules after all's: remove drops, insert sets a fixed value", () => {
    const headers = new SubgraphHeaders(
      rules({
        subgraphs: {
          catalog: { request: [{ remove: { named: 'authorization' } }, { insert: { name: 'x-gateway', value: 'trellis' } }, { propagate: { named: 'x-tenant' } }] },
        },
      }),
    );
    expect(headers.incoming).toEqual(['traceparent', 'tracestate', 'authorization', 'idempotency-key', 'x-tenant']);
    const captured = headers.capture(reader(caller));
    expect(headers.forSubgraph('catalog', captured, 'c')).toEqual({ traceparent: 'tp', tracestate: 'ts', 'idempotency-key': 'k1', 'x-gateway': 'trellis', 'x-tenant': 'acme', 'x-correlation-id': 'c' });
    // Another subgraph keeps the default and does not get the header only catalog's rules name.
    expect(headers.forSubgraph('users', captured)).toEqual({ traceparent: 'tp', tracestate: 'ts', authorization: 'Bearer t', 'idempotency-key': 'k1' });
  });

  it('applies rules in order: a later rule wins over an earlier one', () => {
    const headers = new SubgraphHeaders(
      rules({ all: { request: [{ insert: { name: 'x-a', value: '1' } }, { remove: { named: 'x-a' } }, { insert: { name: 'x-b', value: '1' } }, { insert: { name: 'x-b', value: '2' } }] } }),
    );
    expect(headers.forSubgraph('users', {})).toEqual({ 'x-b': '2' });
  });

  it('replaces the default list when `all` is given', () => {
    const headers = new SubgraphHeaders(rules({ all: { request: [{ propagate: { named: 'traceparent' } }] } }));
    expect(headers.forSubgraph('users', headers.capture(reader(caller)))).toEqual({ traceparent: 'tp' });
  });

  it('never lets a rule override the correlation id', () => {
    const headers = new SubgraphHeaders({ all: { request: [] }, subgraphs: {} });
    expect(headers.forSubgraph('users', {}, 'corr')).toEqual({ 'x-correlation-id': 'corr' });
  });
});
