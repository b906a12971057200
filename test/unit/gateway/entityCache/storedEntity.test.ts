/** One cached entity as both tiers keep it: read back whole, whatever its JSON holds; anything else is no entry. */
import { decodeStored, encodeStored } from '../../../../gateway/entityCache/storedEntity';

describe('stored entities', () => {
  it('reads back what it wrote, private or not, a JSON holding the separator too', () => {
    const entry = { json: '{"name":"a|b","n":1}', expiresAt: 1_700_000_060_000, storedAt: 1_700_000_000_000, isPrivate: true };
    expect(encodeStored(entry)).toBe('1700000060000|1700000000000|1|{"name":"a|b","n":1}');
    expect(decodeStored(encodeStored(entry))).toEqual(entry);
    expect(decodeStored(encodeStored({ ...entry, isPrivate: false }))).toEqual({ ...entry, isPrivate: false });
  });

  it('is no entry when the value is not one (another writer, an older layout)', () => {
    for (const value of ['', '{"n":1}', '1|2|{"n":1}', '1|2|x|{}', 'a|2|0|{}', ' 1|2|0|{}', '1|2|2|{}']) expect(decodeStored(value)).toBeUndefined();
  });
});
