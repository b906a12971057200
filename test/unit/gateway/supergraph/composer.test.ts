/**
 * Composition off the serving event loop: a real worker thread composes what the gateway would
 * compose on its own thread, the loop keeps turning meanwhile, an idle worker ends, and a worker
 * that dies fails only its compositions, the next one starting a new worker.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { composeIncrementally, type SubgraphSource } from '../../../../gateway/supergraph/compose';
import { composeOnThisThread, CompositionTimeoutError, WorkerComposer, type Composer } from '../../../../gateway/supergraph/composer';
import { typeDefs as users } from '../../../../subgraphs/users';
import { typeDefs as catalog } from '../../../../subgraphs/catalog';
import { typeDefs as orders } from '../../../../subgraphs/orders';
import { typeDefs as payments } from '../../../../subgraphs/payments';

const source = (name: string, sdl: string): SubgraphSource => ({ name, url: `http://${name}.test/graphql`, sdl });
const examples = [source('users', users), source('catalog', catalog), source('orders', orders), source('payments', payments)];
/** Claims `Product.price` with another type than catalog's, and composes on its own (it has a Query). */
const clashing = source(
  'pricing',
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { cheapest: Product } type Product @key(fields: "id") { id: ID! price: String! }',
);
const FIXTURES = path.resolve(__dirname, '../../../support/composer');
const MORTAL_WORKER = path.join(FIXTURES, 'mortalComposeWorker.ts');

/** How many times the event loop came round while `work` ran. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  counting = false;
  return turns;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('WorkerComposer', () => {
  const composers: Composer[] = [];
  const composer = (options?: ConstructorParameters<typeof WorkerComposer>[0]) => {
    const created = new WorkerComposer(options);
    composers.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(composers.splice(0).map((created) => created.close()));
  });

  it('composes in a worker what composing on this thread gives, refusals included', async () => {
    const worker = composer();
    const trusted = new Set(['users', 'catalog', 'orders', 'payments']);
    expect(await worker.compose([...examples, clashing], trusted)).toEqual(composeIncrementally([...examples, clashing], trusted));
    expect(await worker.compose(examples, new Set())).toEqual(composeIncrementally(examples, new Set()));
    // What was trusted decides who is refused when the whole set does not compose.
    const clashFirst = [clashing, ...examples];
    const fromTrusted = await worker.compose(clashFirst, trusted);
    expect(fromTrusted).toEqual(composeIncrementally(clashFirst, trusted));
    expect(fromTrusted.refused.map((refusal) => refusal.name)).toEqual(['pricing']);
    expect((await worker.compose(clashFirst, new Set())).refused.map((refusal) => refusal.name)).toEqual(['catalog']);
    expect(worker.running).toBe(true);
  });

  it('starts a compiled (.js) worker without tsx', async () => {
    const worker = composer({ workerFile: path.join(FIXTURES, 'plainJsWorker.js') });
    expect(await worker.compose([source('users', users)], new Set(['users']))).toEqual({ refused: [{ name: 'users', errors: ['trusted: users'] }] });
  });

  it('leaves the event loop free while it composes; composing on this thread does not', async () => {
    const worker = composer();
    await worker.compose(examples, new Set());
    expect(await turnsDuring(() => worker.compose([...examples, clashing], new Set()))).toBeGreaterThan(0);
    expect(await turnsDuring(() => composeOnThisThread.compose([...examples, clashing], new Set()))).toBe(0);
  });

  it('ends a worker that has been idle for idleMs, and starts one again when asked', async () => {
    const worker = composer({ idleMs: 50 });
    await worker.compose(examples, new Set());
    await until(() => !worker.running);
    const again = await worker.compose(examples, new Set());
    expect(again.composition?.supergraphSdl).toContain('USERS @join__graph');
  });

  it('fails the compositions of a worker that dies with a clear error, and composes again on a new one', async () => {
    const worker = composer({ workerFile: MORTAL_WORKER, idleMs: 50 });
    expect((await worker.compose(examples, new Set())).refused).toEqual([]);
    await expect(worker.compose([source('die', users)], new Set())).rejects.toThrow('the composition worker exited (code 3)');
    expect(worker.running).toBe(false);
    expect((await worker.compose(examples, new Set())).composition?.supergraphSdl).toContain('PAYMENTS @join__graph');
    // Nothing of the dead worker's is left pending: the new one goes once idle.
    await until(() => !worker.running);
  });

  it('terminates a composition still running at its deadline, failing it with a clear error, and composes again on a new worker', async () => {
    // The deadline counts from when the worker has loaded (start-up is not composing). These four take
    // about 0.7 s cold on an idle machine, but past 3 s at a load of 25 on 2 cores (a CI run went red on
    // it): 10 s keeps the real compositions well inside the deadline and the hang well past it.
    const worker = composer({ workerFile: MORTAL_WORKER, timeoutMs: 10_000 });
    expect((await worker.compose(examples, new Set())).refused).toEqual([]);
    const started = performance.now();
    const hanging = worker.compose([source('hang', users)], new Set());
    await expect(hanging).rejects.toThrow(new CompositionTimeoutError(10_000));
    await expect(hanging).rejects.toMatchObject({ code: 'COMPOSITION_FAILED' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(9995);
    expect(worker.running).toBe(false);
    // The looping thread could not have answered: a new worker composes the next one.
    expect((await worker.compose(examples, new Set())).composition?.supergraphSdl).toContain('PAYMENTS @join__graph');
  });

  it('fails the compositions of a worker that throws, naming the error', async () => {
    const worker = composer({ workerFile: path.join(FIXTURES, 'throwingWorker.js') });
    await expect(worker.compose(examples, new Set())).rejects.toThrow('the composition worker failed: thrown in the worker');
    expect(worker.running).toBe(false);
  });

  it('passes on a composition the worker refuses, and keeps the worker', async () => {
    const worker = composer({ workerFile: MORTAL_WORKER });
    await expect(worker.compose([source('refuse', users)], new Set())).rejects.toThrow('composition failed: asked to refuse');
    expect(worker.running).toBe(true);
    expect((await worker.compose(examples, new Set())).refused).toEqual([]);
  });

  it('holds a process whose only work is composing until the answers come, then lets it exit', async () => {
    const child = spawn(process.execPath, ['--conditions=trellis-source', '--import', require.resolve('tsx'), path.join(FIXTURES, 'composeOnly.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    const exited = once(child, 'exit');
    const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = (await exited) as [number | null, string | null];
    clearTimeout(deadline);
    expect({ code, signal, output: output.trim() }).toEqual({ code: 0, signal: null, output: 'users users+catalog' });
  });

  it('fails what is pending when closed', async () => {
    const worker = composer();
    const refused = expect(worker.compose(examples, new Set())).rejects.toThrow('the composer was closed');
    await worker.close();
    await refused;
    expect(worker.running).toBe(false);
  });
});
