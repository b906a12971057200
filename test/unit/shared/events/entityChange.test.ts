import { decodeEntityChange, encodeEntityChange, entityChangeKey, type EntityChange } from '@trellis/kit/internal/events';

const change: EntityChange = { type: 'Product', key: { upc: '1', store: { region: 'eu', id: 7 } }, fields: ['inStock'], source: 'inventory', at: 1_700_000_000_000 };

describe('entity change', () => {
  it('survives encoding, with the key spelled one way whatever order its fields were given in', () => {
    const reordered = { ...change, key: { store: { id: 7, region: 'eu' }, upc: '1' } };
    expect(encodeEntityChange(reordered)).toBe(encodeEntityChange(change));
    expect(decodeEntityChange(encodeEntityChange(reordered))).toEqual(change);
  });

  it('keys one entity alike, and two entities apart', () => {
    expect(entityChangeKey({ type: 'Product', key: { b: 2, a: 1 } })).toBe('Product:{"a":1,"b":2}');
    expect(entityChangeKey({ type: 'Product', key: { upc: '1' } })).not.toBe(entityChangeKey({ type: 'Product', key: { upc: '2' } }));
    expect(entityChangeKey({ type: 'Product', key: { upc: '1' } })).not.toBe(entityChangeKey({ type: 'Order', key: { upc: '1' } }));
  });

  it('refuses what is not a change, naming what is wrong', () => {
    expect(() => decodeEntityChange('not json')).toThrow('an entity change must be JSON');
    expect(() => decodeEntityChange(JSON.stringify({ ...change, type: '1x' }))).toThrow('type: a GraphQL type name');
    expect(() => decodeEntityChange(JSON.stringify({ ...change, key: {} }))).toThrow('key: at least one key field');
    expect(() => decodeEntityChange(JSON.stringify({ ...change, fields: [] }))).toThrow(/fields/);
    expect(() => decodeEntityChange(JSON.stringify({ ...change, at: -1 }))).toThrow(/at/);
    expect(() => decodeEntityChange(JSON.stringify({ ...change, extra: 1 }))).toThrow(/extra|Unrecognized/);
    const { source: _source, ...unsourced } = change;
    expect(() => decodeEntityChange(JSON.stringify(unsourced))).toThrow(/source/);
  });

  it('keeps arrays and nulls in a key as they are, sorting nested objects only', () => {
    expect(entityChangeKey({ type: 'Shelf', key: { slots: [2, 1], owner: null, at: { z: 1, a: [{ y: 1, b: 2 }] } } })).toBe('Shelf:{"at":{"a":[{"y":1,"b":2}],"z":1},"owner":null,"slots":[2,1]}');
  });

  it('says what is wrong with a value that is no object, and every problem of one that is', () => {
    expect(() => decodeEntityChange('5')).toThrow(/^not an entity change: value: /);
    expect(() => decodeEntityChange(JSON.stringify({ ...change, type: '1x', source: '' }))).toThrow(/^not an entity change: type: a GraphQL type name; source: /);
    expect(decodeEntityChange(JSON.stringify({ ...change, type: '_Private' })).type).toBe('_Private');
    for (const type of ['Product!', ' Product', 'Pro-duct']) expect(() => decodeEntityChange(JSON.stringify({ ...change, type }))).toThrow('type: a GraphQL type name');
  });
});
