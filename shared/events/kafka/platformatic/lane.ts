/**
 * One partition's messages, handled one at a time in offset order with the bus's failure rules:
 * a retriable failure retries the same message after a backoff (holding back only this
 * partition), poison and exhausted messages go to the dead-letter topic, then the lane moves on.
 */
import { errorMessage } from '../../../errors';
import type { Logger } from '../../../logging';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../retry';
import { deadLetterOf, onHandlerFailure } from '../../delivery';
import { DEAD_LETTER_SUFFIX, type EventMessage, type OutgoingMessage, type SubscribeOptions } from '../../types';

export interface LaneDeps {
  subscription: SubscribeOptions;
  publish: (topic: string, message: OutgoingMessage) => Promise<void>;
  logger?: Logger;
}

export class PartitionLane {
  private readonly queue: Array<{ message: EventMessage; settled: () => void }> = [];
  private draining?: Promise<void>;
  private closed = false;
  /** Held through a rebalance: nothing new starts until `release`. */
  private held = false;
  /** Failed attempts at the head so far (kept across a hold). */
  private attempts = 0;
  private wake?: () => void;
  private timer?: NodeJS.Timeout;
  /** The offset after the last message taken in: a message redelivered after a rejoin is not handled twice. */
  private nextOffset = -1n;

  constructor(private readonly deps: LaneDeps) {}

  get size(): number {
    return this.queue.length;
  }

  /** `settled` runs once the message is handled or dead-lettered, in offset order (never if the lane closes first). */
  push(message: EventMessage, settled: () => void): void {
    const offset = BigInt(message.offset);
    if (this.closed || offset < this.nextOffset) return;
    this.nextOffset = offset + 1n;
    this.queue.push({ message, settled });
    this.draining ??= this.drain();
  }

  /** Drops what is queued, cuts a backoff short, and waits for the message in hand (if any). */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await this.hold();
  }

  /** Starts nothing more (a backoff is cut short, its retry waits for `release`); resolves once no handler of the lane runs. */
  async hold(): Promise<void> {
    this.held = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.draining;
  }

  release(): void {
    this.held = false;
    if (this.queue.length > 0) this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (!this.closed && !this.held && this.queue.length > 0) {
      const next = this.queue[0];
      if (!(await this.settle(next.message))) break;
      this.attempts = 0;
      this.queue.shift();
      next.settled();
    }
    this.draining = undefined;
  }

  private get stopping(): boolean {
    return this.closed || this.held;
  }

  /** True once the message is handled or dead-lettered; false if the lane was held or closed first. */
  private async settle(message: EventMessage): Promise<boolean> {
    const { subscription, logger } = this.deps;
    while (!this.stopping) {
      const attempt = ++this.attempts;
      try {
        await subscription.handler(message);
        return true;
      } catch (error) {
        const verdict = onHandlerFailure(error, attempt, subscription);
        if ('deadLetter' in verdict) return this.deadLetter(message, verdict.deadLetter);
        if (attempt === 1 || attempt % 10 === 0) {
          logger?.warn(
            { topic: message.topic, partition: message.partition, offset: message.offset, attempts: attempt, retryInMs: verdict.retryInMs, err: errorMessage(error) },
            'handler failed; partition held back until the retry',
          );
        }
        await this.pause(verdict.retryInMs);
      }
    }
    return false;
  }

  private async deadLetter(message: EventMessage, reason: string): Promise<boolean> {
    this.deps.logger?.warn({ topic: message.topic, partition: message.partition, offset: message.offset, reason }, 'message dead-lettered');
    // A failed dead-letter publish is tried again (the broker is likely away): the message is never skipped unrecorded.
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.deps.publish(message.topic + DEAD_LETTER_SUFFIX, deadLetterOf(message, reason));
        return true;
      } catch (error) {
        this.deps.logger?.warn({ topic: message.topic, offset: message.offset, attempts: attempt, err: errorMessage(error) }, 'dead-letter publish failed; retrying');
        await this.pause(backoffDelay(attempt, DEFAULT_BACKOFF));
      }
    }
    return false;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopping) return resolve();
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }
}
