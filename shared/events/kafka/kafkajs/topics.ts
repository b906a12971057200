/** Topics (and their dead-letter topics) made through the admin client, once per bus. */
import type { Kafka } from 'kafkajs';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import { retry } from '../../../retry';
import { DEAD_LETTER_SUFFIX } from '../../types';
import type { Namespaced } from '../names';
import { isRefusal } from './access';
import { DEFAULT_PARTITIONS, TOPIC_ATTEMPTS, type KafkaEventBusOptions } from '../options';

export class KafkajsTopics {
  private readonly known = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
  ) {}

  async ensure(topics: string[]): Promise<void> {
    const wanted = [...new Set(topics.flatMap((topic) => [topic, topic + DEAD_LETTER_SUFFIX]))]
      .map((topic) => this.names.onBroker(topic))
      .filter((t) => !this.known.has(t));
    if (wanted.length === 0) return;
    // Several processes create the same topics at start-up; the broker's metadata can lag a
    // creation for a moment ("does not host this topic-partition"), so a few quick retries.
    await retry(() => this.createMissing(wanted), {
      maxAttempts: TOPIC_ATTEMPTS,
      policy: { initialDelayMs: 250, maxDelayMs: 4000 },
      // Metadata lag is retriable; a refusal (a rejected login, an invalid replication factor) is not.
      shouldRetry: (error) => !isRefusal(error),
      onRetry: (error, attempt) => this.options.logger?.debug({ attempt, err: errorMessage(error) }, 'topic creation failed; retrying'),
    }).catch((error) => {
      throw new BackendUnavailableError('kafka', `cannot create topics: ${errorMessage(error)}`, error);
    });
    for (const topic of wanted) this.known.add(topic);
  }

  private async createMissing(topics: string[]): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        const { partitions = DEFAULT_PARTITIONS, replicationFactor = -1, topicConfigs = {} } = this.options;
        await admin.createTopics({
          waitForLeaders: true,
          // replicationFactor -1: the broker's default.replication.factor.
          topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor, configEntries: Object.entries(topicConfigs).map(([name, value]) => ({ name, value })) })),
        });
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
