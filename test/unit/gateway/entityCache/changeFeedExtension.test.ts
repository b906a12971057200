/** The change feed in the gateway: none while the cache is off; on or in shadow, started with the gateway and stopped with it. */
import { Registry } from 'prom-client';
import { loadConfig } from '@trellis/kit/internal/config';
import { ENTITY_CHANGES_TOPIC, InMemoryEventBus, encodeEntityChange, entityChangeKey, type EntityChange } from '@trellis/kit/internal/events';
import { changeFeedExtensions } from '../../../../gateway/entityCache/changeFeedExtension';
import { recordingLogger } from '../../../support/recordingLogger';
import { eventually } from '../../../support/graphql';

describe('changeFeedExtensions', () => {
  const wiring = (mode: string, events: InMemoryEventBus, dropped: EntityChange[], ttls: Array<number | undefined>) => ({
    config: loadConfig({ ENTITY_CACHE: mode, ENTITY_CHANGES_DEGRADED_TTL_MS: '700' }),
    logger: recordingLogger().logger,
    events,
    registry: new Registry(),
    cache: { invalidate: async (change: EntityChange) => void dropped.push(change), shortenTtl: (ms: number | undefined) => void ttls.push(ms) },
  });

  it('runs no feed while the cache is off', () => {
    expect(changeFeedExtensions(wiring('off', new InMemoryEventBus(), [], []))).toEqual([]);
  });

  it.each(['on', 'shadow'])('with the cache %s, hears changes from attach to stop, each gateway on its own group', async (mode) => {
    const events = new InMemoryEventBus();
    const dropped: Array<EntityChange[]> = [[], []];
    const ttls: Array<Array<number | undefined>> = [[], []];
    const gateways = [0, 1].map((k) => changeFeedExtensions(wiring(mode, events, dropped[k], ttls[k])));
    expect(gateways.map((extensions) => extensions.map((extension) => extension.name))).toEqual([['entityChangeFeed'], ['entityChangeFeed']]);
    // Nothing before the gateway starts: no group joined, TTLs untouched.
    expect(ttls).toEqual([[], []]);
    for (const [extension] of gateways) await extension.attach!({} as never, {} as never);
    for (const k of [0, 1]) await eventually(async () => expect(ttls[k]).toEqual([700, undefined]));
    const change: EntityChange = { type: 'Product', key: { id: 'p1' }, source: 'catalog', at: Date.now() };
    await events.publish(ENTITY_CHANGES_TOPIC, { key: entityChangeKey(change), value: encodeEntityChange(change) });
    for (const k of [0, 1]) await eventually(async () => expect(dropped[k]).toEqual([change]));
    for (const [extension] of gateways) await extension.stop!();
    await events.publish(ENTITY_CHANGES_TOPIC, { key: entityChangeKey(change), value: encodeEntityChange({ ...change, key: { id: 'p2' } }) });
    // Stopped: the bus keeps delivering to running groups only (a watcher's group proves the message went out).
    const seen: string[] = [];
    await events.subscribe({ groupId: 'watch', topics: [ENTITY_CHANGES_TOPIC], fromBeginning: true, handler: async (m) => void seen.push(m.value) });
    await eventually(async () => expect(seen.some((value) => value.includes('"p2"'))).toBe(true));
    expect(dropped.map((list) => list.length)).toEqual([1, 1]);
    await events.close();
  });
});
