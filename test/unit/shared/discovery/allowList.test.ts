/** SUBGRAPH_ALLOW: names, hosts, IPs and CIDR blocks; a bad value stops start-up naming the variable. */
import { parseAllowList } from '../../../../shared/discovery';
import { loadConfig } from '../../../../shared/config';

describe('subgraph allow-list', () => {
  const allow = parseAllowList('users@10.0.0.0/8|users.internal, catalog, orders@127.0.0.1|::1');
  const refusal = (name: string, url: string) => allow.refusal({ name, url });

  it('admits a listed name on a listed host, IP or CIDR block', () => {
    expect(refusal('users', 'http://10.2.3.4:4001/graphql')).toBeNull();
    expect(refusal('users', 'https://USERS.internal/graphql')).toBeNull();
    expect(refusal('orders', 'http://127.0.0.1:4003/graphql')).toBeNull();
    expect(refusal('orders', 'http://[::1]:4003/graphql')).toBeNull();
    expect(refusal('catalog', 'http://anywhere.example/graphql')).toBeNull();
  });

  it('refuses an unlisted name, a listed name elsewhere, and a URL that is not http', () => {
    expect(refusal('rogue', 'http://10.0.0.1/graphql')).toBe('subgraph name "rogue" is not in SUBGRAPH_ALLOW');
    expect(refusal('users', 'http://11.0.0.1/graphql')).toBe('host 11.0.0.1 is not allowed for subgraph "users" in SUBGRAPH_ALLOW');
    expect(refusal('users', 'http://users.internal.evil.example/graphql')).toMatch(/not allowed/);
    expect(refusal('orders', 'http://127.0.0.2/graphql')).toMatch(/not allowed/);
    expect(refusal('catalog', 'file:///etc/passwd')).toMatch(/not http/);
  });

  it.each(['users@10.0.0.0/33', 'users@', 'us ers', 'users@a@b', 'users@host_name', ','])('refuses %j at start-up, naming SUBGRAPH_ALLOW', (value) => {
    expect(() => loadConfig({ SUBGRAPH_ALLOW: value })).toThrow(/SUBGRAPH_ALLOW/);
  });
});
