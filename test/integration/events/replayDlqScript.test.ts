/**
 * `npm run saga:replay-dlq [topic …]` (docs/subgraph-authors.md), run as a reader runs it against
 * the test stack's Kafka: a message a handler could not take goes to `<topic>.dlq`; the script,
 * with no topic, puts the saga topics' dead letters back and, with topics named, those topics';
 * each dead letter once, however often it runs. Each run has a topic prefix of its own
 * (KAFKA_TOPIC_PREFIX), so its topics and consumer groups are its alone.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { KafkaEventBus, type EventMessage, type Subscription } from '@trellis/kit/internal/events';
import { realBackends, uniquePrefix } from '../../support/backends';
import { eventually } from '../../support/graphql';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const prefix = `${uniquePrefix('dlq-script')}.`;
const env = { ...process.env, KAFKA_BROKERS: realBackends.kafkaBrokers.join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKAJS_NO_PARTITIONER_WARNING: '1' };

/** The npm script as the doc shows it; resolves with the counts it printed (its JSON log lines aside). */
async function replayDlq(...topics: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'saga:replay-dlq', ...topics], { cwd: ROOT, env, timeout: 60_000 });
  return stdout
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('{'))
    .map((line) => `${line}\n`)
    .join('');
}

const bus = new KafkaEventBus({ ...realBackends.kafka, clientId: 'dlq-script', namespace: prefix });
const subscriptions: Subscription[] = [];
let fixed = false;
const handled: EventMessage[] = [];
const dead: EventMessage[] = [];

afterAll(async () => {
  await Promise.all(subscriptions.map((subscription) => subscription.stop()));
  await bus.close();
});

it('puts dead letters back on their source topics, the saga topics by default, each once', async () => {
  const topics = ['saga.replies', 'orders.custom'];
  await bus.ensureTopics(topics);
  subscriptions.push(
    await bus.subscribe({
      groupId: 'participant',
      topics,
      fromBeginning: true,
      maxAttempts: 1,
      handler: async (message) => {
        if (!fixed) throw new Error('handler bug');
        handled.push(message);
      },
    }),
    await bus.subscribe({ groupId: 'watcher', topics: topics.map((topic) => `${topic}.dlq`), fromBeginning: true, handler: async (message) => void dead.push(message) }),
  );
  await bus.publish('saga.replies', { key: 'saga-1', value: 'reply' });
  await bus.publish('orders.custom', { key: 'order-1', value: 'custom' });
  await eventually(async () => expect(dead.map((message) => message.topic).sort()).toEqual(['orders.custom.dlq', 'saga.replies.dlq']), 30_000);
  fixed = true;

  const byDefault = await replayDlq();
  expect(byDefault).toContain('saga.replies: 1 replayed\n');
  expect(byDefault).toMatch(/^saga\.commands\.\w+: 0 replayed$/m);
  expect(byDefault).not.toContain('orders.custom');
  await eventually(async () => expect(handled.map((message) => message.value)).toEqual(['reply']), 30_000);

  expect(await replayDlq('orders.custom')).toBe('orders.custom: 1 replayed\n');
  await eventually(async () => expect(handled.map((message) => message.value).sort()).toEqual(['custom', 'reply']), 30_000);
  expect(handled.find((message) => message.value === 'custom')?.headers).toMatchObject({ 'x-dlq-replayed': '1' });

  expect(await replayDlq('orders.custom', 'saga.replies')).toBe('orders.custom: 0 replayed\nsaga.replies: 0 replayed\n');
}, 180_000);
