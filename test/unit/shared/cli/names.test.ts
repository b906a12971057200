import { subgraphNames, UsageError } from '@trellis/kit/internal/cli';

describe('subgraph names', () => {
  it('derives the GraphQL field and type names from a dashed name', () => {
    expect(subgraphNames('shipping-rates')).toEqual({ name: 'shipping-rates', field: 'shippingRates', type: 'ShippingRates' });
    expect(subgraphNames('reviews')).toEqual({ name: 'reviews', field: 'reviews', type: 'Reviews' });
    expect(subgraphNames('t-scaffold-1a2b')).toEqual({ name: 't-scaffold-1a2b', field: 'tScaffold1a2b', type: 'TScaffold1a2b' });
  });

  it.each(['', 'Reviews', 'shipping_rates', '1reviews', '-reviews', 'reviews-', 'ship--rates', 'ship rates', 'ré', '@scope/x', '../x', 'a'.repeat(41)])(
    'refuses %j as a usage error that says what a name may be',
    (name) => {
      expect(() => subgraphNames(name)).toThrow(UsageError);
      expect(() => subgraphNames(name)).toThrow(/lower-case letters, digits and single dashes, starting with a letter, at most 40 characters/);
    },
  );

  it('takes a name of exactly 40 characters', () => {
    expect(subgraphNames('a'.repeat(40)).name).toHaveLength(40);
  });
});
