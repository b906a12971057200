/** SUBGRAPH_ALLOW: names, hosts, IPs and CIDR blocks; a bad value stops start-up naming the variable. */
import { parseAllowList } from '@trellis/kit/internal/discovery';
import { loadConfig } from '@trellis/kit/internal/config';

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

describe('subgraph allow-list entries', () => {
  const refusalOf = (text: string) => {
    try {
      parseAllowList(text);
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('lists its names, reading entries and hosts with spaces around them', () => {
    const allow = parseAllowList(' users@10.0.0.1 | users.internal ,, catalog ');
    expect(allow.names).toEqual(['users', 'catalog']);
    expect(allow.refusal({ name: 'users', url: 'http://users.internal/graphql' })).toBeNull();
    expect(allow.refusal({ name: 'users', url: 'http://10.0.0.1/graphql' })).toBeNull();
  });

  it.each([
    ['users@10.0.0.0/32', 'http://10.0.0.0/graphql', 'http://10.0.0.1/graphql'],
    ['users@10.0.0.0/0', 'http://192.168.1.1/graphql', 'http://[::1]/graphql'],
    ['users@fd00::/8', 'http://[fd12::1]/graphql', 'http://[fe80::1]/graphql'],
    ['users@fd00::1/128', 'http://[fd00::1]/graphql', 'http://[fd00::2]/graphql'],
    ['users@::1', 'http://[::1]:4001/graphql', 'http://127.0.0.1/graphql'],
  ])('reads %s as a block of the right family and size', (text, inside, outside) => {
    const allow = parseAllowList(text);
    expect(allow.refusal({ name: 'users', url: inside })).toBeNull();
    expect(allow.refusal({ name: 'users', url: outside })).toMatch(/^host .+ is not allowed for subgraph "users" in SUBGRAPH_ALLOW$/);
  });

  it.each([
    ['us ers', '"us ers" is not name or name@host|cidr (name: letters, digits, _ and -)'],
    ['users@a@b', '"users@a@b" is not name or name@host|cidr (name: letters, digits, _ and -)'],
    ['users@', '"users@" has an empty host'],
    ['users@a| |b', '"users@a| |b" has an empty host'],
    ['users@10.0.0.0/33', '"10.0.0.0/33" in "users@10.0.0.0/33" is not a CIDR block like 10.0.0.0/8'],
    ['users@fd00::/129', '"fd00::/129" in "users@fd00::/129" is not a CIDR block like 10.0.0.0/8'],
    ['users@10.0.0.0/8x', '"10.0.0.0/8x" in "users@10.0.0.0/8x" is not a CIDR block like 10.0.0.0/8'],
    ['users@10.0.0.0/x8', '"10.0.0.0/x8" in "users@10.0.0.0/x8" is not a CIDR block like 10.0.0.0/8'],
    ['users@10.0.0.0/', '"10.0.0.0/" in "users@10.0.0.0/" is not a CIDR block like 10.0.0.0/8'],
    ['users@10.0.0.0/8/9', '"10.0.0.0/8/9" in "users@10.0.0.0/8/9" is not a CIDR block like 10.0.0.0/8'],
    ['users@host.internal/8', '"host.internal/8" in "users@host.internal/8" is not a CIDR block like 10.0.0.0/8'],
    ['users@host_name', '"host_name" in "users@host_name" is not a host name, an IP address or a CIDR block'],
    [' , ', 'lists no subgraph (unset it to allow any)'],
  ])('refuses %j, saying why', (text, message) => {
    expect(refusalOf(text)).toBe(message);
  });

  it('accepts the largest prefix of each family', () => {
    expect(refusalOf('a@10.0.0.1/32,b@fd00::1/128,c@10.0.0.0/1')).toBe('accepted');
  });

  it('refuses a GraphQL URL that is not a URL, naming it', () => {
    expect(parseAllowList('users').refusal({ name: 'users', url: 'not a url' })).toBe('GraphQL URL "not a url" is not a URL');
    expect(parseAllowList('users').refusal({ name: 'users', url: 'ftp://x/graphql' })).toBe('GraphQL URL "ftp://x/graphql" is not http or https');
  });
});
