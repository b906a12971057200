/** HEADER_RULES: header names as HTTP defines them, never one the gateway sets itself, one action per rule. */
import { loadConfig, RESERVED_HEADERS } from '@trellis/kit/internal/config';

const rulesFor = (request: unknown[]) =>
  loadConfig({ HEADER_RULES: JSON.stringify({ all: { request } }) }).gateway.headerRules.all.request;
const refusalOf = (value: unknown): string => {
  try {
    loadConfig({ HEADER_RULES: JSON.stringify(value) });
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('HEADER_RULES', () => {
  it.each([
    'accept',
    'connection',
    'content-length',
    'content-type',
    'host',
    'keep-alive',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'x-correlation-id',
  ])('refuses to forward, rename onto or insert %s, which the gateway sets itself', (header) => {
    expect(RESERVED_HEADERS).toContain(header);
    const upper = header.toUpperCase();
    expect(refusalOf({ all: { request: [{ propagate: { named: upper } }] } })).toContain(
      `all.request.0.propagate.named: ${header} is set by the gateway itself`,
    );
    expect(refusalOf({ all: { request: [{ propagate: { named: 'x-a', rename: header } }] } })).toContain(
      `all.request.0.propagate.rename: ${header} is set by the gateway itself`,
    );
    expect(refusalOf({ all: { request: [{ insert: { name: header, value: 'v' } }] } })).toContain(
      `all.request.0.insert.name: ${header} is set by the gateway itself`,
    );
  });

  it('takes any header name HTTP allows, lower-cased', () => {
    expect(
      rulesFor([
        { propagate: { named: "X-A!#$%&'*+.^_`|~-9", rename: 'X-B', default: 'none' } },
        { remove: { named: 'Cookie' } },
        { insert: { name: 'X-Gateway', value: 'Trellis' } },
      ]),
    ).toEqual([
      { propagate: { named: "x-a!#$%&'*+.^_`|~-9", rename: 'x-b', default: 'none' } },
      { remove: { named: 'cookie' } },
      { insert: { name: 'x-gateway', value: 'Trellis' } },
    ]);
  });

  it.each(['x a', 'x:a', 'é', '', 'x-a\n'])('refuses the header name %j', (name) => {
    expect(refusalOf({ all: { request: [{ remove: { named: name } }] } })).toContain('must be an HTTP header name');
  });

  it('takes subgraph names of letters, digits, _ and -, and refuses others', () => {
    expect(
      Object.keys(
        loadConfig({ HEADER_RULES: JSON.stringify({ subgraphs: { 'Cat_a-9': { request: [] } } }) }).gateway.headerRules
          .subgraphs,
      ),
    ).toEqual(['Cat_a-9']);
    for (const name of ['a b', 'a.b', '', 'a/b'])
      expect(refusalOf({ subgraphs: { [name]: { request: [] } } })).toContain('must be a subgraph name');
  });

  it('refuses a rule with more than one action, or none', () => {
    expect(refusalOf({ all: { request: [{ remove: { named: 'a' }, insert: { name: 'b', value: 'c' } }] } })).toContain(
      'all.request.0: each rule is exactly one of propagate, remove or insert',
    );
    expect(
      refusalOf({
        all: { request: [{ propagate: { named: 'a' }, remove: { named: 'a' }, insert: { name: 'b', value: 'c' } }] },
      }),
    ).toContain('each rule is exactly one of');
    expect(refusalOf({ all: { request: [{}] } })).toContain('each rule is exactly one of');
  });

  it('keeps the default rules for all subgraphs when only `all` is missing, and no subgraph rules when `subgraphs` is', () => {
    const onlyAll = loadConfig({ HEADER_RULES: JSON.stringify({ all: { request: [] } }) }).gateway.headerRules;
    expect(onlyAll).toEqual({ all: { request: [] }, subgraphs: {} });
    const empty = loadConfig({ HEADER_RULES: '{}' }).gateway.headerRules;
    expect(empty.all.request.map((rule) => ('propagate' in rule ? rule.propagate.named : ''))).toEqual([
      'traceparent',
      'tracestate',
      'authorization',
      'idempotency-key',
    ]);
  });
});
