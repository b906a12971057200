/** Topics (and their dead-letter topics) made through @platformatic/kafka's admin client, once per bus. */
import { Admin } from '@platformatic/kafka';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import { retry } from '../../../retry';
import { DEAD_LETTER_SUFFIX } from '../../types';
import type { Namespaced } from '../names';
import { DEFAULT_PARTITIONS, TOPIC_ATTEMPTS, type KafkaEventBusOptions } from '../options';
import { platformaticBaseOptions } from './client';

export class PlatformaticTopics {
  private readonly known = new Set<string>();

  constructor(
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
  ) {}

  async ensure(topics: string[]): Promise<void> {
    const wanted = [...new Set(topics.flatMap((topic) => [topic, topic + DEAD_LETTER_SUFFIX]))]
      .map((topic) => this.names.onBroker(topic))
      .filter((topic) => !this.known.has(topic));
    if (wanted.length === 0) return;
    // Several processes create the same topics at start-up; one loses the race ("already exists")
    // or meets metadata that lags a creation: a few quick attempts, each listing what is missing.
    await retry(() => this.createMissing(wanted), {
      maxAttempts: TOPIC_ATTEMPTS,
      policy: { initialDelayMs: 250, maxDelayMs: 4000 },
      shouldRetry: () => true,
      onRetry: (error, attempt) => this.options.logger?.debug({ attempt, err: errorMessage(error) }, 'topic creation failed; retrying'),
    }).catch((error) => {
      throw new BackendUnavailableError('kafka', `cannot create topics: ${errorMessage(error)}`, error);
    });
    for (const topic of wanted) this.known.add(topic);
  }

  private async createMissing(topics: string[]): Promise<void> {
    const admin = new Admin(platformaticBaseOptions(this.options));
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic));
      if (missing.length === 0) return;
      await admin.createTopics({
        topics: missing,
        partitions: this.options.partitions ?? DEFAULT_PARTITIONS,
        // -1: the broker's default.replication.factor.
        replicas: this.options.replicationFactor ?? -1,
        configs: Object.entries(this.options.topicConfigs ?? {}).map(([name, value]) => ({ name, value })),
      });
    } finally {
      await admin.close().catch(() => undefined);
    }
  }
}
