/**
 * Commits a Kafka consumer's offsets every so often instead of once per batch: for each partition
 * the offset below which the dispatcher has settled every message, never past an unsettled one.
 * What was handled after the last commit is delivered again after a crash or a rebalance; the
 * handlers' dedupe makes that harmless.
 */
import type { Consumer } from 'kafkajs';
import { errorMessage } from '../errors';
import type { Logger } from '../logging';

const COMMIT_INTERVAL_MS = 500;

interface Progress {
  topic: string;
  partition: number;
  /** Offset to commit next (the first message not settled); undefined until one settled. */
  settled?: string;
  committed?: string;
}

export class OffsetCommitter {
  private readonly progress = new Map<string, Progress>();
  private timer?: NodeJS.Timeout;
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly consumer: Consumer,
    private readonly onBroker: (topic: string) => string,
    private readonly logger: Logger | undefined,
    private readonly groupId: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.commit(), COMMIT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Commits what settled since the last commit, then commits no more. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.commit();
  }

  offered(topic: string, partition: number): void {
    const slot = `${topic}/${partition}`;
    if (!this.progress.has(slot)) this.progress.set(slot, { topic, partition });
  }

  settled(topic: string, partition: number, next: string | undefined): void {
    const progress = this.progress.get(`${topic}/${partition}`);
    if (progress && next !== undefined) progress.settled = next;
  }

  tracked(): Array<{ topic: string; partition: number }> {
    return [...this.progress.values()];
  }

  /** The partition went to another member: its offset is theirs to commit. */
  forget(topic: string, partition: number): void {
    this.progress.delete(`${topic}/${partition}`);
  }

  /** One commit at a time; a failed one (e.g. during a rebalance) is tried again on the next tick. */
  commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const due = [...this.progress.values()].filter((p) => p.settled !== undefined && p.settled !== p.committed);
      if (due.length === 0) return;
      const offsets = due.map((p) => ({ topic: this.onBroker(p.topic), partition: p.partition, offset: p.settled as string }));
      try {
        await this.consumer.commitOffsets(offsets);
        for (const [i, p] of due.entries()) p.committed = offsets[i].offset;
      } catch (error) {
        this.logger?.debug({ groupId: this.groupId, err: errorMessage(error) }, 'offset commit failed; retried on the next tick');
      }
    });
    return this.committing;
  }
}
