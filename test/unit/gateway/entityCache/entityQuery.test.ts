/**
 * Which subgraph fetches the entity cache handles: the query plan's entity fetches, other queries
 * (root fetches), and nothing else; each named by a hash of its text, parsed once per text.
 */
import { createHash } from 'node:crypto';
import { print } from 'graphql';
import { EntityQueries } from '../../../../gateway/entityCache/entityQuery';

const ENTITIES = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{inStock}}}';
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

describe('EntityQueries', () => {
  it('knows an entity fetch, named by the hash of its text', () => {
    const queries = new EntityQueries();
    expect(queries.of(ENTITIES)).toEqual({ kind: 'entities', hash: hashOf(ENTITIES) });
    const named = ENTITIES.replace('query(', 'query Named(');
    expect(queries.of(named)).toEqual({ kind: 'entities', hash: hashOf(named) });
  });

  it('knows a root fetch, with its operation and fragments for walking the answer', () => {
    const queries = new EntityQueries();
    const text = 'query($first:Int){products(first:$first){...card} featured{upc}} fragment card on Product{upc name}';
    const found = queries.of(text);
    expect(found).toMatchObject({ kind: 'root', hash: hashOf(text) });
    if (found?.kind !== 'root') throw new Error('not a root fetch');
    expect(print(found.operation)).toBe('query ($first: Int) {\n  products(first: $first) {\n    ...card\n  }\n  featured {\n    upc\n  }\n}');
    expect([...found.fragments.keys()]).toEqual(['card']);
  });

  it('leaves alone mutations, subscriptions, several operations, what does not parse, and any other use of _entities', () => {
    const queries = new EntityQueries();
    for (const text of [
      ENTITIES.replace('query', 'mutation'),
      'subscription { changed { upc } }',
      '{ a } { b }',
      'query A { a } query B { b }',
      '{ products { ',
      '',
      // _entities in another shape than the planner's: the cache cannot read its representations.
      'query($representations:[_Any!]!){found:_entities(representations:$representations){__typename}}',
      'query($representations:[_Any!]!){_entities(representations:$representations){__typename} products{upc}}',
      'query($reps:[_Any!]!){_entities(representations:$reps){__typename}}',
      'query($representations:[_Any!]!){_entities(others:$representations){__typename}}',
      'query($representations:[_Any!]!,$x:Int){_entities(representations:$representations,x:$x){__typename}}',
      'query{_entities(representations:[{__typename:"Product",upc:"1"}]){__typename}}',
      'query{_entities{__typename}}',
    ]) {
      expect([text, queries.of(text)]).toEqual([text, undefined]);
    }
  });

  it('parses a text once, however often it is sent', () => {
    const queries = new EntityQueries();
    const text = '{ products { upc } }';
    const first = queries.of(text);
    expect(queries.of(text)).toBe(first);
    expect(queries.of('{ products { upc } } ')).not.toBe(first);
    const refused = 'mutation { reset }';
    expect(queries.of(refused)).toBeUndefined();
    expect(queries.of(refused)).toBeUndefined();
  });
});
