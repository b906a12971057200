/**
 * SagaParking against the store itself, without an orchestrator: what one park writes (the record
 * out of its due index, the parked set's entry, one warning), what a second park of the same saga
 * keeps, which write conflict makes it try again and which makes it give up, and what a take-back
 * takes, drops, leaves and counts (a batch per shard, one write per shard, nothing on a conflict).
 */
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import type { StateStore, VersionedValue, VersionedWrite } from '@trellis/kit/internal/state';
import { DEFAULT_DUE_SHARDS, dueIndexKey, dueShardOf, listParkedSagas, type SagaRecord, type SagaReply } from '@trellis/kit/internal/saga';
import { LAYOUT_KEY, parkedKey, sagaKey } from '@trellis/kit/internal/saga/keys';
import { SagaMetrics } from '@trellis/kit/internal/saga/metrics';
import { layoutShards, readable, SagaParking, type ParkedSaga } from '@trellis/kit/internal/saga/parking';
import { Registry } from 'prom-client';
import { recordingLogger } from '../../../support/recordingLogger';

const SHARDS = 4;

function record(id: string, overrides: Partial<SagaRecord> = {}): SagaRecord {
  return {
    id,
    definition: 'order',
    version: 'v2digest',
    versionLabel: '2',
    state: 'RUNNING',
    input: {},
    results: {},
    steps: [{ name: 'reserve', state: 'RUNNING', attempts: 1 }],
    cursor: 0,
    createdAt: '2026-12-07T00:00:00.000Z',
    updatedAt: '2026-12-07T00:00:00.000Z',
    revision: 1,
    ...overrides,
  };
}

const reply = (stepIndex: number): SagaReply => ({ sagaId: 's', stepIndex, action: 'command', outcome: 'success' });

async function world(wrap: (state: StateStore) => StateStore = (state) => state) {
  let now = 1_000;
  const store = new InMemoryStateStore({ now: () => now });
  const state = wrap(store);
  const { logger, lines: raw } = recordingLogger();
  const lines = {
    filter: (keep: (line: { level: string; message: string; fields: Record<string, unknown> }) => boolean) =>
      raw.map(({ level, msg, ...fields }) => ({ level: levelName(level), message: msg, fields })).filter(keep),
  };
  const registry = new Registry();
  const metrics = new SagaMetrics(registry);
  const parking = new SagaParking({ state, logger, shards: SHARDS, now: () => now, metrics });
  const put = async (id: string, value: string | SagaRecord, dueAt = 5): Promise<VersionedValue> => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const versions = await store.compareAndSetMany([{ key: sagaKey(id, SHARDS), expectedVersion: 0, value: text, due: { index: dueIndexKey(dueShardOf(id, SHARDS)), at: dueAt } }]);
    return { value: text, version: versions![0]! };
  };
  const due = async (id: string) => (await store.readIndex(dueIndexKey(dueShardOf(id, SHARDS)), { limit: 1000 })).entries.find((entry) => entry.key === sagaKey(id, SHARDS))?.at;
  const parkedSet = async (shard: number): Promise<Record<string, ParkedSaga>> => JSON.parse((await store.get(parkedKey(shard))) ?? '{}');
  const parkedInStore = async () => (await registry.getSingleMetricAsString('trellis_sagas_parked')).split('\n').filter((line) => !line.startsWith('#'));
  return { store, parking, lines, put, due, parkedSet, parkedInStore, registry, advance: (ms: number) => void (now += ms) };
}

describe('parking a saga', () => {
  it('takes its record out of the due index and files it in its shard’s parked set, with why and what it waits for', async () => {
    const w = await world();
    const stored = await w.put('s1', record('s1'));
    expect(await w.due('s1')).toBe(5);

    expect(await w.parking.park('s1', stored, 'unknown-version')).toBe(true);

    expect(await w.due('s1')).toBeUndefined();
    expect((await w.parkedSet(dueShardOf('s1', SHARDS)))['s1']).toEqual({ sagaId: 's1', reason: 'unknown-version', definition: 'order', version: 'v2digest', versionLabel: '2', parkedAt: 1_000, heldReplies: 0 });
    expect(w.lines.filter((line) => line.level === 'warn')).toEqual([
      expect.objectContaining({ message: 'saga parked: this orchestrator was not given its definition version; one that has it takes it back', fields: expect.objectContaining({ sagaId: 's1', saga: 'order', version: 'v2digest', reason: 'unknown-version' }) }),
    ]);
  });

  it.each([
    ['unknown-definition', 'saga parked: no definition of that name is registered here (removed by a deploy?); an orchestrator that has it takes it back'],
    ['unreadable', 'saga parked: its record cannot be read; repair the record, and an orchestrator takes it back'],
  ] as const)('says why in words for %s', async (reason, message) => {
    const w = await world();
    await w.parking.park('s1', await w.put('s1', record('s1')), reason);
    expect(w.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([message]);
  });

  it('keeps a reply on the record and counts it in the parked entry; parking again keeps the first time and warns once', async () => {
    const w = await world();
    expect(await w.parking.park('s1', await w.put('s1', record('s1')), 'unknown-version', reply(0))).toBe(true);
    w.advance(500);
    const again = (await w.store.getVersioned(sagaKey('s1', SHARDS)))!;
    expect(await w.parking.park('s1', again, 'unknown-version', reply(1))).toBe(true);

    const kept = JSON.parse((await w.store.get(sagaKey('s1', SHARDS)))!) as SagaRecord;
    expect(kept.heldReplies?.map((r) => r.stepIndex)).toEqual([0, 1]);
    expect((await w.parkedSet(dueShardOf('s1', SHARDS)))['s1']).toMatchObject({ parkedAt: 1_000, heldReplies: 2 });
    expect(w.lines.filter((line) => line.level === 'warn')).toHaveLength(1);
    expect(w.lines.filter((line) => line.level === 'info')).toEqual([
      expect.objectContaining({ message: 'reply kept on a parked saga for an orchestrator that has its version', fields: expect.objectContaining({ sagaId: 's1', stepIndex: 1, action: 'command' }) }),
    ]);
    expect(await w.registry.getSingleMetricAsString('trellis_sagas_parked_total')).toContain('trellis_sagas_parked_total{saga="order",reason="unknown-version"} 1');
  });

  it('parks an unreadable record as it is, with no definition, keeping no reply on it', async () => {
    const w = await world();
    expect(await w.parking.park('s1', await w.put('s1', '{not json'), 'unreadable', reply(0))).toBe(true);
    expect(await w.store.get(sagaKey('s1', SHARDS))).toBe('{not json');
    expect((await w.parkedSet(dueShardOf('s1', SHARDS)))['s1']).toEqual({ sagaId: 's1', reason: 'unreadable', parkedAt: 1_000, heldReplies: 0 });
    expect(await w.registry.getSingleMetricAsString('trellis_sagas_parked_total')).toContain('{saga="unreadable",reason="unreadable"} 1');
  });

  it('gives up, writing nothing, when the record moved since it was read (the caller decides again)', async () => {
    const w = await world();
    const stored = await w.put('s1', record('s1'));
    await w.store.compareAndSet(sagaKey('s1', SHARDS), stored.version, JSON.stringify(record('s1', { revision: 2 })));
    expect(await w.parking.park('s1', stored, 'unknown-version')).toBe(false);
    expect(await w.parkedSet(dueShardOf('s1', SHARDS))).toEqual({});
    expect(await w.due('s1')).toBe(5);
    expect(w.lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('tries again when only the parked set moved, and files both sagas', async () => {
    // Another saga of the shard is parked between this park's read of the set and its write.
    let interfere: (() => Promise<void>) | undefined;
    const w = await world((state) =>
      Object.assign(Object.create(state) as StateStore, {
        compareAndSetMany: async (writes: VersionedWrite[]) => {
          const once = interfere;
          interfere = undefined;
          await once?.();
          return state.compareAndSetMany(writes);
        },
      }),
    );
    const [a, b] = sameShardIds(2);
    const storedA = await w.put(a, record(a));
    const storedB = await w.put(b, record(b));
    interfere = async () => void (await w.parking.park(b, storedB, 'unknown-definition'));
    expect(await w.parking.park(a, storedA, 'unknown-version')).toBe(true);
    expect(Object.keys(await w.parkedSet(dueShardOf(a, SHARDS))).sort()).toEqual([a, b].sort());
  });

  it('stops trying after 20 conflicts on the parked set alone', async () => {
    let writes = 0;
    const w = await world((state) =>
      Object.assign(Object.create(state) as StateStore, {
        compareAndSetMany: async () => {
          writes += 1;
          return null;
        },
      }),
    );
    expect(await w.parking.park('s1', await w.put('s1', record('s1')), 'unknown-version')).toBe(false);
    expect(writes).toBe(20);
  });
});

describe('taking parked sagas back', () => {
  it('takes what it can drive, due at the lease, leaves the rest parked and counted, drops what ended or is gone', async () => {
    const w = await world();
    for (const [id, value] of [
      ['v2', record('v2')],
      ['v3', record('v3', { version: 'v3digest' })],
      ['done', record('done')],
      ['gone', record('gone')],
      ['broken', '{not json'],
    ] as const) {
      await w.parking.park(id, await w.put(id, value), typeof value === 'string' ? 'unreadable' : 'unknown-version');
    }
    const doneStored = (await w.store.getVersioned(sagaKey('done', SHARDS)))!;
    await w.store.compareAndSet(sagaKey('done', SHARDS), doneStored.version, JSON.stringify(record('done', { state: 'COMPLETED' })));
    await w.store.delete(sagaKey('gone', SHARDS));

    const taken = await w.parking.unpark((r) => r.version === 'v2digest', 9_999);

    expect(taken).toEqual(['v2']);
    expect(await w.due('v2')).toBe(9_999);
    expect(await w.due('v3')).toBeUndefined();
    expect((await listParkedSagas(w.store, SHARDS)).map((p) => p.sagaId).sort()).toEqual(['broken', 'v3']);
    expect(await w.parkedInStore()).toEqual(expect.arrayContaining(['trellis_sagas_parked{saga="order",reason="unknown-version"} 1', 'trellis_sagas_parked{saga="unreadable",reason="unreadable"} 1']));
    expect(w.lines.filter((line) => line.level === 'info' && line.message === 'parked sagas taken back by an orchestrator that has their version')).toEqual([expect.objectContaining({ fields: expect.objectContaining({ sagas: 1 }) })]);
  });

  it('writes nothing and logs nothing when it can drive none', async () => {
    const w = await world();
    await w.parking.park('s1', await w.put('s1', record('s1')), 'unknown-version');
    const before = await w.store.getVersioned(parkedKey(dueShardOf('s1', SHARDS)));
    expect(await w.parking.unpark(() => false, 9_999)).toEqual([]);
    expect(await w.store.getVersioned(parkedKey(dueShardOf('s1', SHARDS)))).toEqual(before);
    expect(w.lines.filter((line) => line.message.includes('taken back'))).toEqual([]);
  });

  it('takes at most 100 of a shard per scan, the rest at the next', async () => {
    const w = await world();
    const ids = sameShardIds(101);
    for (const id of ids) await w.parking.park(id, await w.put(id, record(id)), 'unknown-version');
    expect(await w.parking.unpark(() => true, 9_999)).toHaveLength(100);
    expect(await listParkedSagas(w.store, SHARDS)).toHaveLength(1);
    expect(await w.parking.unpark(() => true, 9_999)).toHaveLength(1);
    expect(await listParkedSagas(w.store, SHARDS)).toEqual([]);
  });

  it('takes nothing of a shard whose write conflicts (another taker or a park at that moment), and counts it all as parked', async () => {
    const w = await world((state) =>
      Object.assign(Object.create(state) as StateStore, {
        compareAndSetMany: async (writes: VersionedWrite[]) => (writes.some((write) => write.key.startsWith('saga:parked:')) && writes.length > 1 ? null : state.compareAndSetMany(writes)),
      }),
    );
    const stored = await w.put('s1', record('s1'));
    await w.store.compareAndSetMany([
      { key: sagaKey('s1', SHARDS), expectedVersion: stored.version, value: stored.value, due: { index: dueIndexKey(dueShardOf('s1', SHARDS)), at: null } },
      { key: parkedKey(dueShardOf('s1', SHARDS)), expectedVersion: 0, value: JSON.stringify({ s1: { sagaId: 's1', reason: 'unknown-version', definition: 'order', parkedAt: 1, heldReplies: 0 } }) },
    ]);
    expect(await w.parking.unpark(() => true, 9_999)).toEqual([]);
    expect(await w.due('s1')).toBeUndefined();
    expect(await w.parkedInStore()).toEqual(['trellis_sagas_parked{saga="order",reason="unknown-version"} 1']);
  });
});

describe('the parked list and the layout', () => {
  it('lists every shard’s parked sagas, oldest first', async () => {
    const w = await world();
    for (const id of ['c', 'a', 'b']) {
      await w.parking.park(id, await w.put(id, record(id)), 'unknown-version');
      w.advance(10);
    }
    expect((await listParkedSagas(w.store, SHARDS)).map((p) => [p.sagaId, p.parkedAt])).toEqual([
      ['c', 1_000],
      ['a', 1_010],
      ['b', 1_020],
    ]);
  });

  it('reads the shards from the store’s layout, the default before any', async () => {
    const store = new InMemoryStateStore();
    expect(await layoutShards(store)).toBe(DEFAULT_DUE_SHARDS);
    await store.set(LAYOUT_KEY, JSON.stringify({ dueShards: 7 }));
    expect(await layoutShards(store)).toBe(7);
  });

  it.each([
    ['text that is not JSON', '{'],
    ['JSON null', 'null'],
    ['a number', '3'],
    ['a record without a definition', JSON.stringify({ steps: [] })],
    ['a record whose steps are not a list', JSON.stringify({ definition: 'order', steps: {} })],
  ])('reads %s as no record', (_case, text) => {
    expect(readable(text)).toBeUndefined();
  });

  it('reads a record', () => {
    expect(readable(JSON.stringify(record('s1')))).toMatchObject({ id: 's1', definition: 'order' });
  });
});

/** `count` saga ids that fall in one due shard, so a test works on one parked set. */
function sameShardIds(count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (dueShardOf(`p${i}`, SHARDS) === 0) ids.push(`p${i}`);
  return ids;
}

/** pino's numeric levels as words. */
function levelName(level: unknown): string {
  return ({ 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' } as Record<string, string>)[String(level)] ?? String(level);
}
