import { InflightDedup } from '../../../../gateway/datasource/inflightDedup';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('InflightDedup', () => {
  it('answers identical keys in flight with one call, and other keys with their own', async () => {
    const dedup = new InflightDedup();
    const first = deferred<string>();
    const call = jest.fn(() => first.promise);
    const other = jest.fn(async () => 'other');
    const a = dedup.run('k', call);
    const b = dedup.run('k', call);
    const c = dedup.run('k2', other);
    expect(call).toHaveBeenCalledTimes(1);
    expect(dedup.size).toBe(2);
    first.resolve('answer');
    await expect(Promise.all([a, b, c])).resolves.toEqual(['answer', 'answer', 'other']);
    expect(other).toHaveBeenCalledTimes(1);
  });

  it('forgets a key once its call settles, so a later call goes out again', async () => {
    const dedup = new InflightDedup();
    await dedup.run('k', async () => 'one');
    expect(dedup.size).toBe(0);
    await expect(dedup.run('k', async () => 'two')).resolves.toBe('two');
  });

  it('shares a failure with everyone waiting, then forgets it', async () => {
    const dedup = new InflightDedup();
    const failing = deferred<string>();
    const a = dedup.run('k', () => failing.promise);
    const b = dedup.run('k', async () => 'never');
    failing.reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    expect(dedup.size).toBe(0);
    await expect(dedup.run('k', async () => 'back')).resolves.toBe('back');
  });
});
