import { requestLoader } from '@trellis/kit/internal/subgraph';

describe('requestLoader', () => {
  const recorded = () => {
    const batches: string[][] = [];
    const loader = requestLoader(async (ids: readonly string[]) => {
      batches.push([...ids]);
      return ids.map((id) => (id === 'bad' ? new Error(`cannot read ${id}`) : id === 'none' ? null : { id }));
    });
    return { batches, loader };
  };

  it('reads every key loaded in one tick in one batch, each key once, answering each load with its own value', async () => {
    const { batches, loader } = recorded();
    const request = {};
    const values = await Promise.all(['a', 'b', 'a', 'none'].map((id) => loader(request).load(id)));
    expect(values).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'a' }, null]);
    expect(batches).toEqual([['a', 'b', 'none']]);
  });

  it('fails only the load whose key failed', async () => {
    const { loader } = recorded();
    const request = {};
    const [good, bad] = await Promise.allSettled([loader(request).load('a'), loader(request).load('bad')]);
    expect(good).toEqual({ status: 'fulfilled', value: { id: 'a' } });
    expect(bad).toEqual({ status: 'rejected', reason: new Error('cannot read bad') });
  });

  it('never shares reads between requests, and caches nothing past a batch', async () => {
    const { batches, loader } = recorded();
    const first = {};
    const second = {};
    await Promise.all([loader(first).load('a'), loader(second).load('a')]);
    expect(batches).toEqual([['a'], ['a']]);
    expect(loader(first)).toBe(loader(first));
    await loader(first).load('a');
    expect(batches).toEqual([['a'], ['a'], ['a']]);
  });

  it('tells keys apart by keyOf, and refuses a batch read that answers the wrong number of values', async () => {
    const batches: Array<Array<{ id: string }>> = [];
    const loader = requestLoader(
      async (keys: ReadonlyArray<{ id: string }>) => {
        batches.push([...keys]);
        return keys.map(({ id }) => id);
      },
      { keyOf: ({ id }) => id },
    );
    expect(await Promise.all([loader({}).load({ id: 'x' }), loader({}).load({ id: 'y' })])).toEqual(['x', 'y']);
    const request = {};
    expect(await Promise.all([loader(request).load({ id: 'x' }), loader(request).load({ id: 'x' })])).toEqual(['x', 'x']);
    expect(batches.at(-1)).toEqual([{ id: 'x' }]);
    const short = requestLoader(async () => []);
    await expect(short({}).load('a')).rejects.toThrow('a batch read of 1 keys answered 0 values');
  });
});
