/**
 * Consumers kept through a broker restart resume by themselves: the private broker is SIGKILLed,
 * or stopped (a controlled shutdown, whose "not coordinator" answers made kafkajs give a consumer
 * up for good), and started again while messages flow; consumers and producer are never
 * restarted by the test, and every message published is handled soon after the broker is back.
 */
import { KafkaEventBus } from '@trellis/kit/internal/events';
import { eventually } from '../../support/graphql';
import { uniquePrefix } from '../../support/backends';
import { privateKafka } from '../../support/privateServers';
import { recordingLogger } from '../../support/recordingLogger';

const GROUPS = 3;

describe('keyed consumers through a broker restart', () => {
  let kafka: Awaited<ReturnType<typeof privateKafka>>;
  let bus: KafkaEventBus;
  const { logger, lines } = recordingLogger();
  beforeAll(async () => {
    kafka = await privateKafka();
    await kafka.start();
    bus = new KafkaEventBus({ brokers: [kafka.url], clientId: 'restart', logger, publishTimeoutMs: 5000 });
  }, 180_000);
  afterAll(async () => {
    await bus?.close();
    await kafka?.stop();
  }, 60_000);

  it.each([
    ['SIGKILLed', () => kafka.kill()],
    ['stopped', () => kafka.stop()],
  ])('handles every message published before, during and after the broker is %s, without a restart of their own', async (how, down) => {
    const topic = uniquePrefix('restart');
    await bus.ensureTopics([topic]);
    const handled = Array.from({ length: GROUPS }, () => new Set<string>());
    for (const [group, seen] of handled.entries()) {
      await bus.subscribe({
        groupId: uniquePrefix(`restart-${group}`),
        topics: [topic],
        fromBeginning: true,
        handler: async (message) => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          seen.add(message.value);
        },
      });
    }
    const unhandled = (values: string[]) => handled.flatMap((seen, group) => values.filter((value) => !seen.has(value)).map((value) => `${group}:${value}`));
    // Load: a round of 20 keys every 100 ms; a round the broker refuses is sent again until it is taken.
    const published: string[] = [];
    let publishing = true;
    const load = (async () => {
      for (let round = 0; publishing; round++) {
        const messages = Array.from({ length: 20 }, (_, k) => ({ key: `k${k}`, value: `${round}/${k}` }));
        for (;;) {
          try {
            await bus.publish(topic, messages);
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
        published.push(...messages.map((m) => m.value));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await eventually(async () => expect(handled.every((seen) => seen.size > 200)).toBe(true), 30_000, 100);

    const crashes = lines.length;
    await down();
    // A long outage: the consumers' own retries run out and they crash before the broker is back.
    await eventually(async () => expect(lines.slice(crashes).filter((line) => line.msg === 'consumer crashed').length).toBeGreaterThanOrEqual(GROUPS), 120_000, 200);
    await kafka.start();
    const back = Date.now();
    const atRestart = published.length;
    // Resumed: what is published after the broker is back is handled by every group, within seconds.
    await eventually(async () => expect(published.length).toBeGreaterThan(atRestart + 100), 60_000, 100);
    await eventually(async () => expect(unhandled(published.slice(atRestart))).toEqual([]), 30_000, 100);
    const caughtUpMs = Date.now() - back;
    publishing = false;
    await load;
    await eventually(async () => expect(unhandled(published)).toEqual([]), 30_000, 100);
    const givenUp = lines.slice(crashes).filter((line) => line.msg === 'consumer crashed' && line.restart === false).length;
    process.stdout.write(`broker ${how}: every group caught up ${caughtUpMs} ms after the broker was back (${givenUp} crashes kafkajs would not restart from)\n`);
  }, 300_000);
});
