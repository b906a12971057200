/**
 * Folds the publishes that arrive while the producer is busy into one request: at most
 * `maxInFlight` produce requests at once, each carrying everything queued when it leaves (several
 * topics in one `sendBatch`). Under load many handlers publish at once and one acknowledged
 * request serves them all; an idle bus sends each publish at once, no waiting for a batch.
 */
import type { Message, Producer, TopicMessages } from 'kafkajs';

interface Pending {
  topic: string;
  messages: Message[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class PublishCoalescer {
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly maxInFlight: number,
  ) {}

  /** Resolves once the broker acknowledged these messages (acks=all); rejects with the send's error. */
  publish(topic: string, messages: Message[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, messages, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, messages } of batch) byTopic.set(topic, [...(byTopic.get(topic) ?? []), ...messages]);
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      const producer = await this.producer();
      await producer.sendBatch({ topicMessages, acks: -1 });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const pending of batch) pending.resolve();
  }
}
