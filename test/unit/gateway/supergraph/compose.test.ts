import { composeIncrementally, composeSupergraph, type SubgraphSource } from '../../../../gateway/supergraph/compose';
import { typeDefs as users } from '../../../../subgraphs/users';
import { typeDefs as catalog } from '../../../../subgraphs/catalog';
import { typeDefs as orders } from '../../../../subgraphs/orders';
import { typeDefs as payments } from '../../../../subgraphs/payments';

const source = (name: string, sdl: string): SubgraphSource => ({ name, url: `http://${name}.test/graphql`, sdl });
const examples = [source('users', users), source('catalog', catalog), source('orders', orders), source('payments', payments)];

/** Claims `Product.price` with another type and no @shareable: cannot compose with catalog. */
const clashing = source(
  'pricing',
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
   type Product @key(fields: "id") { id: ID! price: String! }`,
);

describe('composeSupergraph', () => {
  it('composes the four example subgraphs into one supergraph', () => {
    const result = composeSupergraph(examples);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    for (const name of ['USERS', 'CATALOG', 'ORDERS', 'PAYMENTS']) expect(result.supergraphSdl).toContain(`${name} @join__graph`);
  });

  it('reports errors for SDL that does not parse', () => {
    const result = composeSupergraph([source('broken', 'type Query {')]);
    expect(result).toEqual({ ok: false, errors: [expect.stringContaining('SDL does not parse')] });
  });

  it('reports an empty set as an error', () => {
    expect(composeSupergraph([]).ok).toBe(false);
  });
});

describe('composeIncrementally', () => {
  it('refuses by name only the subgraph that breaks composition and keeps the rest', () => {
    const trusted = new Set(examples.map((s) => s.name));
    const { composition, refused } = composeIncrementally([...examples, clashing], trusted);
    expect(refused.map((r) => r.name)).toEqual(['pricing']);
    expect(refused[0].errors.join(' ')).toMatch(/price/);
    expect(composition?.subgraphs.map((s) => s.name).sort()).toEqual(['catalog', 'orders', 'payments', 'users']);
  });

  it('still lands a good new subgraph beside a refused one', () => {
    const reviews = source(
      'reviews',
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
       type Query { topReview: String }`,
    );
    const { composition, refused } = composeIncrementally([...examples, clashing, reviews], new Set(['users', 'catalog', 'orders', 'payments']));
    expect(refused.map((r) => r.name)).toEqual(['pricing']);
    expect(composition?.supergraphSdl).toContain('topReview');
  });
});

/** A small federation 2 subgraph owning `Query.<field>` with the given type. */
const owning = (name: string, field: string, type = 'String') =>
  source(name, `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { ${field}: ${type} }`);

describe('composeSupergraph errors', () => {
  it('says there is nothing to compose for an empty set', () => {
    expect(composeSupergraph([])).toEqual({ ok: false, errors: ['no subgraphs to compose'] });
  });

  it('returns the composition errors as messages', () => {
    const result = composeSupergraph([owning('a', 'shared'), owning('b', 'shared', 'Int')]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.length).toBeGreaterThan(0);
    expect(result.errors.join(' ')).toMatch(/Query\.shared/);
  });

  it('answers the subgraphs it composed with the supergraph', () => {
    const subgraphs = [owning('a', 'one'), owning('b', 'two')];
    const result = composeSupergraph(subgraphs);
    expect(result).toEqual({ ok: true, supergraphSdl: expect.stringContaining('two: String'), subgraphs });
  });
});

describe('composeIncrementally choices', () => {
  const a = owning('a', 'shared');
  const b = owning('b', 'shared', 'Int'); // clashes with a
  const c = owning('c', 'other');

  it('refuses nothing when everything composes', () => {
    const { composition, refused } = composeIncrementally([a, c], new Set());
    expect(refused).toEqual([]);
    expect(composition?.subgraphs).toEqual([a, c]);
  });

  it('keeps the trusted subgraph and refuses the newcomer that clashes with it', () => {
    const { composition, refused } = composeIncrementally([a, b, c], new Set(['b']));
    expect(composition?.subgraphs.map((s) => s.name)).toEqual(['b', 'c']);
    expect(refused.map((r) => r.name)).toEqual(['a']);
  });

  it('without trust, takes subgraphs in order and refuses each that breaks what came before', () => {
    const { composition, refused } = composeIncrementally([a, b, c], new Set());
    expect(composition?.subgraphs.map((s) => s.name)).toEqual(['a', 'c']);
    expect(composition?.supergraphSdl).toContain('other: String');
    expect(refused).toEqual([{ name: 'b', errors: expect.arrayContaining([expect.stringMatching(/Query\.shared/)]) }]);
  });

  it('grows from nothing when the trusted set itself no longer composes (one of them changed)', () => {
    const { composition, refused } = composeIncrementally([a, b, c], new Set(['a', 'b']));
    expect(composition?.subgraphs.map((s) => s.name)).toEqual(['a', 'c']);
    expect(refused.map((r) => r.name)).toEqual(['b']);
  });

  it('answers no composition when nothing composes, with every subgraph refused', () => {
    const broken = source('broken', 'type Query {');
    const { composition, refused } = composeIncrementally([broken], new Set(['broken']));
    expect(composition).toBeUndefined();
    expect(refused).toEqual([{ name: 'broken', errors: [expect.stringContaining('SDL does not parse')] }]);
  });
});
