/**
 * Batched reads for one request: every load made while a request resolves, in the same tick, is one
 * call of the batch function. Apollo's `_entities` calls `__resolveReference` once per
 * representation, all in one tick, so a loader there turns N representations into one store read.
 *
 * ```ts
 * const products = requestLoader((ids: readonly string[]) => inventory.findMany(ids));
 * const resolvers = { Product: { __resolveReference: ({ id }, context) => products(context).load(id) } };
 * ```
 *
 * One loader per request (per context object), never shared: two callers who may see different
 * data never see each other's reads. Nothing is cached past its batch (DataLoader's cache is off),
 * so a long subscription or a mutation followed by a read never sees a stale value; the same key
 * twice in one batch is read once.
 */
import DataLoader from 'dataloader';

/** Reads `keys` at once: one value (or null, or an Error for that key alone) per key, in their order. */
export type BatchRead<K, V> = (keys: readonly K[]) => Promise<ReadonlyArray<V | Error>>;

export interface RequestLoaderOptions<K> {
  /** What makes two keys the same, for keys that are not strings or numbers (e.g. a representation object). */
  keyOf?: (key: K) => unknown;
}

export type RequestLoader<K, V> = (context: object) => DataLoader<K, V>;

export function requestLoader<K, V>(read: BatchRead<K, V>, options: RequestLoaderOptions<K> = {}): RequestLoader<K, V> {
  const keyOf = options.keyOf ?? ((key: K) => key);
  const loaders = new WeakMap<object, DataLoader<K, V>>();
  const batch = async (keys: readonly K[]): Promise<Array<V | Error>> => {
    const positions = new Map<unknown, number>();
    const unique: K[] = [];
    for (const key of keys) {
      const identity = keyOf(key);
      if (!positions.has(identity)) {
        positions.set(identity, unique.length);
        unique.push(key);
      }
    }
    const values = await read(unique);
    if (values.length !== unique.length) throw new Error(`a batch read of ${unique.length} keys answered ${values.length} values`);
    return keys.map((key) => values[positions.get(keyOf(key))!]!);
  };
  return (context) => {
    let loader = loaders.get(context);
    if (!loader) loaders.set(context, (loader = new DataLoader<K, V>(batch, { cache: false })));
    return loader;
  };
}
