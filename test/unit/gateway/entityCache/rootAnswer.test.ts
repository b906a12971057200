/**
 * Which entities a root answer holds, so a change to any of them drops it: found through lists,
 * nested objects, aliases, inline and named fragments and abstract types; an entity without its
 * key, or a field the schema does not know, makes the answer uncacheable.
 */
import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { entitiesIn } from '../../../../gateway/entityCache/rootAnswer';
import { SupergraphFacts } from '../../../../gateway/entityCache/supergraphFacts';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const SDL = `${LINK}
  type Query { products: [Product!]! featured: Item shelf: Shelf }
  interface Item { id: ID! }
  type Product implements Item @key(fields: "id") { id: ID! name: String related: [Product!]! }
  type Gift implements Item { id: ID! note: String }
  type Shelf { label: String top: Product }
`;
const composed = composeSupergraph([{ name: 'shop', url: 'http://shop', sdl: SDL }]);
if (!composed.ok) throw new Error(composed.errors.join('\n'));
const facts = SupergraphFacts.read(composed.supergraphSdl);
const schema = buildSchema(SDL.replace(LINK, '').replace(/@key\([^)]*\)/g, ''));

const rootOf = (query: string) => {
  const document = parse(query);
  const operation = document.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  const fragments = new Map(document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [])));
  return { operation, fragments };
};
const held = (query: string, data: unknown) => {
  const found = entitiesIn(schema, facts, rootOf(query), data);
  return found && [...found.keys()].sort();
};

describe('entitiesIn', () => {
  it('names every entity in lists and nested objects, once each, by type and key', () => {
    const data = { products: [{ id: 'p1', related: [{ id: 'p2' }, { id: 'p1' }] }], shelf: { label: 'new', top: { id: 'p3' } } };
    expect(held('{ products { id related { id } } shelf { label top { id } } }', data)).toEqual(['Product:{"id":"p1"}', 'Product:{"id":"p2"}', 'Product:{"id":"p3"}']);
  });

  it('follows aliases, named fragments and the concrete type of an abstract field', () => {
    const query = '{ first: products { ...card } featured { __typename ... on Product { id } ... on Gift { note } } } fragment card on Product { id name }';
    expect(held(query, { first: [{ id: 'p1', name: 'a' }], featured: { __typename: 'Product', id: 'p9' } })).toEqual(['Product:{"id":"p1"}', 'Product:{"id":"p9"}']);
    expect(held(query, { first: [], featured: { __typename: 'Gift', note: 'hi' } })).toEqual([]);
  });

  it('is undefined when an entity comes without its key, or a field or type is unknown', () => {
    expect(held('{ products { name } }', { products: [{ name: 'a' }] })).toBeUndefined();
    expect(held('{ featured { id } }', { featured: { id: 'p1' } })).toBeUndefined();
    expect(held('{ gone { id } }', { gone: { id: 'p1' } })).toBeUndefined();
    expect(held('{ products { id } }', { products: null })).toEqual([]);
  });

  it('holds nothing from a field the answer left out', () => {
    expect(held('{ shelf { label top { id } } }', { shelf: { label: 'empty' } })).toEqual([]);
  });

  it('applies a fragment on the field’s own type, and one on an interface the concrete type implements', () => {
    expect(held('{ shelf { ... on Shelf { top { id } } } }', { shelf: { top: { id: 'p3' } } })).toEqual(['Product:{"id":"p3"}']);
    const query = '{ featured { __typename ... on Item { ... on Product { related { id } } } } }';
    expect(held(query, { featured: { __typename: 'Product', id: 'p9', related: [{ id: 'p2' }] } })).toEqual(['Product:{"id":"p2"}', 'Product:{"id":"p9"}']);
  });

  it('is undefined when a fragment holds an entity without its key, or names a fragment the document lacks', () => {
    expect(held('{ shelf { ... on Shelf { top { name } } } }', { shelf: { top: { name: 'a' } } })).toBeUndefined();
    const { operation } = rootOf('{ products { ...card } } fragment card on Product { id }');
    expect(entitiesIn(schema, facts, { operation, fragments: new Map() }, { products: [{ id: 'p1' }] })).toBeUndefined();
  });

  it('is undefined when the answer, or an object in it, is not an object', () => {
    expect(held('{ products { id } }', null)).toBeUndefined();
    expect(held('{ products { id } }', 'text')).toBeUndefined();
    expect(held('{ products { id } }', [{ products: [] }])).toBeUndefined();
    expect(held('{ shelf { label } }', { shelf: 'top shelf' })).toBeUndefined();
  });
});
