/**
 * A gate a test opens: a subgraph resolver held at it answers only once the test says so, never
 * after a sleep. `reached` tells the test the held call has arrived (so what it asserts before
 * opening is known to come first).
 *
 *   const stock = createGate();
 *   startStaticPlatform(env, {}, {}, { factories: { catalog: heldReferences(catalogSubgraph, 'Product', () => stock) } });
 *   ...first part shown...; await stock.reached; stock.open();
 */
import type { SubgraphFactory } from '@trellis/kit';

export interface Gate {
  /** Resolves when a held call has arrived at the gate. */
  reached: Promise<void>;
  /** Lets every held call (and every later one) through. */
  open(): void;
  /** Waits at the gate: used by the held resolver. */
  pass(): Promise<void>;
}

export function createGate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let arrive!: () => void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  return {
    reached,
    open,
    pass: () => {
      arrive();
      return opened;
    },
  };
}

type Resolvers = Record<string, Record<string, unknown>>;

/**
 * `factory`'s subgraph with `type`'s entity resolution (`__resolveReference`: what another part of
 * a plan asks it by key) held at the gate `gate()` gives then (a test may make a new one per case).
 */
export function heldReferences(factory: SubgraphFactory, type: string, gate: () => Gate): SubgraphFactory {
  return async (context) => {
    const options = await factory(context);
    const resolvers = options.resolvers as unknown as Resolvers;
    const resolve = resolvers[type]?.__resolveReference as ((...args: unknown[]) => unknown) | undefined;
    if (!resolve) throw new Error(`${options.name} resolves no ${type} references`);
    const held = async (...args: unknown[]) => {
      await gate().pass();
      return resolve(...args);
    };
    return { ...options, resolvers: { ...resolvers, [type]: { ...resolvers[type], __resolveReference: held } } as unknown as typeof options.resolvers };
  };
}
