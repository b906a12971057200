/**
 * The staleness window after an announced change (issue 33): on a gateway that caches, how long
 * after a change is announced it still serves the old value. Each change: read the product through
 * the gateway (twice, so it is cached), change its stock in the catalog's store, announce the change
 * as the catalog would (`createChangeAnnouncer`, on Kafka), then read it every few ms from the
 * moment the announcement resolves until the gateway serves the new stock: that time is the window.
 *
 * A gateway that hears changes (`events`) is sent them one at a time, cycling over the changing
 * products. One that only lets entries expire (`ttl`) would keep each change for up to its TTL, so
 * it gets one change per product, all at once, each made at a random moment of its entry's life
 * (cached 0 to TTL before, seeded), as changes fall in real traffic: its window is what was left of
 * the TTL. Every answer is checked: the old stock or the new one, anything else is wrong.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { AnnounceChange } from '@trellis/kit/internal/events';
import type { Product } from '../../../subgraphs/catalog/inventory';
import { percentile } from '../saga/table';
import { runFixedRate, type FixedRateOptions, type FixedRateResult } from './fixedRate';
import { markdownTable, fixed } from './table';
import { PRODUCT_PAGE } from './operations';

/** How a target learns that an entity changed: its change feed, or only its entries' TTL running out. */
export type Learns = 'events' | 'ttl';

/** The example subgraphs' declared maxAge (`@cacheControl(maxAge: 30)` on Product, User, Order). */
export const DECLARED_TTL_MS = 30_000;

export interface StalenessOptions {
  target: string;
  url: string;
  learns: Learns;
  /** The products to change, apart from the workloads' ones; `stock` holds what each has now and is kept up to date. */
  products: Product[];
  stock: Map<string, number>;
  /** The reader's `Authorization` header. */
  authorization: string;
  /** Writes a product's stock in the subgraphs, resolving once written. */
  setStock(id: string, available: number): Promise<void>;
  announce: AnnounceChange;
  /** Changes sent one at a time to an `events` target (a `ttl` target gets one per product). */
  changes: number;
  capMs: number;
  pollMs: number;
  /** The seeded source of a `ttl` target's entry ages. */
  random: () => number;
  /** The mix at a fixed rate beside the changes, stopped when they are done; none when absent. */
  load?: Omit<FixedRateOptions, 'durationSeconds' | 'signal'>;
}

export interface StalenessRow {
  target: string;
  learns?: Learns;
  changes?: number;
  /** Changes whose new value was served within the cap, and the window of those, ms. */
  seen?: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Changes still served old at the cap. */
  capped?: number;
  /**
   * Changes whose new value was served already after the write, before the announcement: not
   * served from a cache (a gateway that asks its subgraph every time, or shadow mode). For a
   * target that caches, 0 is the proof that the window measures its cache.
   */
  freshBeforeAnnounce?: number;
  /** Answers neither the old stock nor the new one, or not an answer. */
  wrong?: number;
  firstWrong?: string;
  load?: FixedRateResult;
  /** The machine's 1-minute load average when the changes were done: other work on the cores shows there. */
  machineLoad?: number;
  note?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The longest the mix may run beside the changes; they stop it sooner. */
const LOAD_BOUND_S = 1800;

export async function measureStaleness(options: StalenessOptions): Promise<StalenessRow> {
  const stopLoad = new AbortController();
  const loading = options.load ? runFixedRate({ ...options.load, durationSeconds: LOAD_BOUND_S, signal: stopLoad.signal }) : undefined;
  try {
    const row = await measureChanges(options);
    const machineLoad = loadavg()[0];
    stopLoad.abort();
    return { ...row, load: await loading, machineLoad };
  } finally {
    stopLoad.abort();
    await loading?.catch(() => undefined);
  }
}

async function measureChanges(options: StalenessOptions): Promise<StalenessRow> {
  const { products, learns } = options;
  const concurrent = learns === 'ttl' ? products.length : 1;
  const pool = new Pool(new URL(options.url).origin, { connections: concurrent, pipelining: 1, keepAliveTimeout: 30_000 });
  const windows: number[] = [];
  let capped = 0;
  let freshBeforeAnnounce = 0;
  let wrong = 0;
  let firstWrong: string | undefined;
  // Unique across the run: a value that is neither the old nor the new one is caught.
  let nextStock = Math.max(...options.stock.values()) + 1;
  const path = new URL(options.url).pathname;

  const read = async (product: Product): Promise<number | undefined> => {
    try {
      const response = await pool.request({ path, method: 'POST', headers: { authorization: options.authorization, 'content-type': 'application/json' }, body: JSON.stringify({ query: PRODUCT_PAGE.document, operationName: PRODUCT_PAGE.operationName, variables: { id: product.id } }) });
      const body = await response.body.text();
      const answer = JSON.parse(body) as { data?: { product?: Product | null }; errors?: unknown[] };
      const served = answer.data?.product;
      if (response.statusCode === 200 && !answer.errors && served && served.id === product.id && served.name === product.name && served.price === product.price) return served.inStock;
      firstWrong ??= `${product.id}: HTTP ${response.statusCode} ${body.slice(0, 200)}`;
    } catch (error) {
      firstWrong ??= `${product.id}: ${(error as Error).message}`;
    }
    wrong++;
    return undefined;
  };
  const mismatch = (product: Product, served: number | undefined, what: string) => {
    if (served === undefined) return;
    wrong++;
    firstWrong ??= `${product.id}: inStock ${served}, ${what}`;
  };

  /** One change of `product`, its entry `ageMs` old when it is made: the window (undefined at the cap), and whether it was out before the announcement. */
  const change = async (product: Product, ageMs: number): Promise<{ window?: number; fresh: boolean }> => {
    const old = options.stock.get(product.id)!;
    // The first read may fill the cache; the second is served from it where the target caches.
    for (let i = 0; i < 2; i++) {
      const served = await read(product);
      if (served !== old) mismatch(product, served, `expected ${old} before the change`);
    }
    if (ageMs > 0) await sleep(ageMs);
    const value = nextStock++;
    await options.setStock(product.id, value);
    options.stock.set(product.id, value);
    const before = await read(product);
    if (before !== value && before !== old) mismatch(product, before, `expected ${old} (old) or ${value} (new) before the announcement`);
    await options.announce({ type: 'Product', key: { id: product.id }, fields: ['inStock'] });
    const announced = performance.now();
    for (;;) {
      const served = await read(product);
      const now = performance.now();
      if (served === value) return { window: now - announced, fresh: before === value };
      if (served !== old) mismatch(product, served, `expected ${old} (old) or ${value} (new)`);
      if (now - announced > options.capMs) return { fresh: false };
      // Several changes in flight share the poll rate of one.
      await sleep(options.pollMs * concurrent);
    }
  };
  const record = ({ window, fresh }: { window?: number; fresh: boolean }) => {
    if (window === undefined) capped++;
    else windows.push(window);
    if (fresh) freshBeforeAnnounce++;
  };

  try {
    if (learns === 'events') {
      // Unmeasured first: the feed has been live since the gateway started, this proves it before the count starts.
      await change(products[0], 0);
      for (let i = 0; i < options.changes; i++) record(await change(products[(i + 1) % products.length], 0));
    } else {
      const atOnce = await Promise.all(products.map((product) => change(product, options.random() * DECLARED_TTL_MS)));
      atOnce.forEach(record);
    }
  } finally {
    await pool.destroy();
  }
  const sorted = [...windows].sort((a, b) => a - b);
  return {
    target: options.target,
    learns,
    changes: windows.length + capped,
    seen: windows.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1),
    capped,
    freshBeforeAnnounce,
    wrong,
    firstWrong,
  };
}

function loadNote(load: FixedRateResult | undefined): string | undefined {
  if (!load) return undefined;
  const issues = [load.failures > 0 ? `${load.failures} failed (first: ${load.firstWrong})` : undefined, load.unanswered > 0 ? `${load.unanswered} unanswered` : undefined].filter(Boolean);
  return `mix at ${load.rate}/s beside: ${load.achievedPerSecond.toFixed(0)}/s answered, p99 ${load.p99Ms.toFixed(1)} ms${issues.length ? `, ${issues.join(', ')}` : ''}`;
}

const HEADER = ['target', 'learns of a change by', 'changes', 'served new within the cap', 'p50 ms', 'p99 ms', 'max ms', 'still old at the cap', 'new before the announcement', 'wrong answers', 'note'];

export function stalenessTable(rows: StalenessRow[], capSeconds: number): string {
  const body = rows.map((row) => [
    row.target,
    row.learns === 'events' ? 'its change feed (Kafka)' : row.learns === 'ttl' ? `TTL only (${DECLARED_TTL_MS / 1000} s)` : '',
    row.changes === undefined ? '' : String(row.changes),
    row.seen === undefined ? '' : String(row.seen),
    fixed(row.p50Ms, 1),
    fixed(row.p99Ms, 1),
    fixed(row.maxMs, 1),
    row.capped === undefined ? '' : String(row.capped),
    row.freshBeforeAnnounce === undefined ? '' : String(row.freshBeforeAnnounce),
    row.wrong === undefined ? '' : String(row.wrong),
    [row.firstWrong ? `first wrong: ${row.firstWrong}` : undefined, loadNote(row.load), row.machineLoad === undefined ? undefined : `machine load ${row.machineLoad.toFixed(1)}`, row.note].filter(Boolean).join('; '),
  ]);
  return [
    '### Staleness after an announced change',
    '',
    `A product's stock changed in the catalog's store and the change announced on Kafka (\`createChangeAnnouncer\`, \`trellis.entity-changes\`); the window is the time from the announcement resolving to the first answer with the new stock, read through the gateway every few ms (its resolution: one read), capped at ${capSeconds} s. A target that hears changes gets them one at a time; a TTL-only one one change per product, all at once, each made at a random point of its cached entry's life. "new before the announcement": changes already served new when read between the write and the announcement, so not from a cache (0 for a target that caches: its window is its cache's).`,
    '',
    markdownTable(HEADER, body),
    '',
  ].join('\n');
}
