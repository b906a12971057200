/**
 * Entity changes on the real Kafka: a subgraph's announcer and two gateways' change feeds, each on
 * its own connection as in separate processes. Every gateway drops every change, within a measured
 * time (p50 / p99 printed); with the broker hung (SIGSTOP), the feeds shorten the cache's TTLs
 * within the silence bound, the announcer retries and then gives up loudly, and once the broker
 * answers again the feeds hear again and the change announced during the outage still arrives.
 */
import { Registry } from 'prom-client';
import { createChangeAnnouncer, createKafkaEventBus, entityChangeKey, KAFKA_CLIENTS, type EntityChange, type EventBus, type KafkaClientName } from '@trellis/kit/internal/events';
import { EntityChangeFeed, type ChangeSink } from '../../../gateway/entityCache/changeFeed';
import { kafkaOptionsFor, realBackends, uniquePrefix } from '../../support/backends';
import { privateKafka } from '../../support/privateServers';
import { recordingLogger } from '../../support/recordingLogger';
import { eventually } from '../../support/graphql';
import { percentile } from '../../bench/saga/table';

const FEED = { heartbeatMs: 250, silenceMs: 1500, degradedTtlMs: 1000 };

/** A sink that records each change with how long it took to reach it (ms, from the announcement). */
function timingSink(): ChangeSink & { dropped: Map<string, number>; ttls: Array<number | undefined> } {
  const sink = {
    dropped: new Map<string, number>(),
    ttls: [] as Array<number | undefined>,
    invalidate: async (change: EntityChange) => void sink.dropped.set(entityChangeKey(change), Date.now() - change.at),
    shortenTtl: (maxAgeMs: number | undefined) => void sink.ttls.push(maxAgeMs),
  };
  return sink;
}

describe('entity changes over Kafka', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  const bus = (brokers: string[], namespace: string, clientId: string, client?: KafkaClientName): EventBus => {
    const made = createKafkaEventBus({ ...kafkaOptionsFor(brokers), clientId, namespace, ...(client ? { client } : {}) });
    closers.push(() => made.close());
    return made;
  };
  const gateway = async (brokers: string[], namespace: string, gatewayId: string, client?: KafkaClientName) => {
    const sink = timingSink();
    const registry = new Registry();
    const { logger, lines } = recordingLogger();
    const feed = new EntityChangeFeed({ events: bus(brokers, namespace, gatewayId, client), sink, logger, registry, gatewayId, ...FEED });
    await feed.start();
    closers.push(() => feed.stop());
    return { feed, sink, registry, lines };
  };

  it.each(KAFKA_CLIENTS)('every gateway drops every announced change, within a measured time (%s)', async (client) => {
    const namespace = uniquePrefix('changes');
    const brokers = realBackends.kafkaBrokers;
    const gateways = [await gateway(brokers, namespace, 'g1', client), await gateway(brokers, namespace, 'g2', client)];
    // Live: each has heard its own heartbeat, so its group has its partitions and hears what comes next.
    for (const { feed } of gateways) await eventually(async () => expect(feed.isLive()).toBe(true), 60_000, 100);
    const announce = createChangeAnnouncer({ events: bus(brokers, namespace, 'catalog', client), source: 'catalog', logger: recordingLogger().logger });

    const keys: string[] = [];
    for (let i = 0; i < 200; i++) {
      const change = { type: 'Product', key: { id: `p${i}` }, fields: ['inStock'] };
      keys.push(entityChangeKey(change));
      await announce(change);
      // A paced stream, as writes come, rather than one burst: what is measured is delivery, not a backlog.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (const [index, { sink, registry }] of gateways.entries()) {
      // Every change named when missing, not only a count.
      await eventually(async () => expect(keys.filter((key) => !sink.dropped.has(key))).toEqual([]), 30_000, 100);
      const times = [...sink.dropped.values()].sort((a, b) => a - b);
      console.log(`[entity changes on Kafka, ${client}] gateway g${index + 1}: ${times.length} changes dropped, delivery p50 ${percentile(times, 50)} ms, p99 ${percentile(times, 99)} ms, max ${times.at(-1)} ms`);
      // Bounded: on a loaded 2-core machine, well within the silence after which TTLs would be shortened anyway.
      expect(percentile(times, 99)).toBeLessThan(FEED.silenceMs * 2);
      const exported = (await registry.getMetricsAsJSON()).find((m) => m.name === 'trellis_entity_cache_change_delivery_seconds');
      expect(exported?.values.find((v) => (v as { metricName?: string }).metricName === 'trellis_entity_cache_change_delivery_seconds_count')?.value).toBe(200);
    }
  });

  it('with the broker hung: the feeds shorten TTLs within the silence bound, the announcer retries then gives up loudly; answering again, the feeds hear again and the change retried through the outage arrives', async () => {
    const kafka = await privateKafka();
    await kafka.start();
    closers.push(async () => {
      kafka.resume();
      await kafka.stop();
    });
    const namespace = uniquePrefix('outage');
    const brokers = [kafka.url];
    const gateways = [await gateway(brokers, namespace, 'g1'), await gateway(brokers, namespace, 'g2')];
    for (const { feed } of gateways) await eventually(async () => expect(feed.isLive()).toBe(true), 60_000, 100);
    const patient = createChangeAnnouncer({ events: bus(brokers, namespace, 'catalog'), source: 'catalog', logger: recordingLogger().logger, retryForMs: 120_000 });
    const { logger: impatientLog, lines: impatientLines } = recordingLogger();
    const announcerRegistry = new Registry();
    const impatient = createChangeAnnouncer({ events: bus(brokers, namespace, 'orders'), source: 'orders', logger: impatientLog, registry: announcerRegistry, retryForMs: 2_000 });
    await patient({ type: 'Product', key: { id: 'before' } });
    for (const { sink } of gateways) await eventually(async () => expect(sink.dropped.has('Product:{"id":"before"}')).toBe(true), 30_000, 100);

    // SIGSTOP: the broker hangs at once, sockets open and nothing answered, as a hung host does (a
    // clean stop would take its own time to go).
    const stoppedAt = Date.now();
    await kafka.pause();
    for (const { feed, sink, lines } of gateways) {
      await eventually(async () => expect(feed.isLive()).toBe(false), 30_000, 50);
      expect(sink.ttls.at(-1)).toBe(FEED.degradedTtlMs);
      expect(lines.find((line) => line.level === 'warn')?.msg).toMatch(/entity change feed silent/);
    }
    const noticedMs = Date.now() - stoppedAt;
    console.log(`[entity changes, broker hung] both feeds shortened the TTLs ${noticedMs} ms after the broker hung (SIGSTOP; silence ${FEED.silenceMs} ms, heartbeat ${FEED.heartbeatMs} ms)`);
    expect(noticedMs).toBeLessThan(FEED.silenceMs + FEED.heartbeatMs + 2_000);

    // Retried while the broker is down; the impatient one gives up, resolves, and says so.
    const retried = patient({ type: 'Product', key: { id: 'during' }, fields: ['inStock'] });
    const gaveUpAt = Date.now();
    await expect(impatient({ type: 'Order', key: { id: 'o1' } })).resolves.toBeUndefined();
    console.log(`[entity changes, broker hung] an announcer with a 2 s retry gave up after ${Date.now() - gaveUpAt} ms`);
    expect(Date.now() - gaveUpAt).toBeLessThan(2_000 + 1_000);
    expect(impatientLines.find((line) => line.level === 'error')).toMatchObject({ changes: ['Order:{"id":"o1"}'] });
    const failed = (await announcerRegistry.getMetricsAsJSON()).find((m) => m.name === 'trellis_entity_changes_failed_total');
    expect(failed?.values.find((v) => v.labels.type === 'Order')?.value).toBe(1);

    kafka.resume();
    const restartedAt = Date.now();
    await retried;
    for (const { feed, sink } of gateways) {
      await eventually(async () => expect(sink.dropped.has('Product:{"id":"during"}')).toBe(true), 90_000, 100);
      await eventually(async () => expect(feed.isLive()).toBe(true), 90_000, 100);
      expect(sink.ttls.at(-1)).toBeUndefined();
    }
    console.log(`[entity changes, broker answering again] both feeds live again, and the change retried through the outage dropped, ${Date.now() - restartedAt} ms after SIGCONT`);
  }, 240_000);
});
