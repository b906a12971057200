/**
 * Puts dead-lettered messages back on the topics they came from, once their cause is fixed:
 * reads `<topic>.dlq` as the consumer group `trellis-dlq-replay` (so a message is replayed once,
 * however often this runs) and returns when nothing new arrived for `idleMs`.
 */
import type { Logger } from '../logging';
import { replayOf } from './delivery';
import { DEAD_LETTER_SUFFIX, type EventBus } from './types';

export interface ReplayOptions {
  /** Stop after this long with no dead letter left to move. */
  idleMs?: number;
  groupId?: string;
  logger?: Logger;
}

/** Replays every dead letter of `topics`; resolves with how many went back, by source topic. */
export async function replayDeadLetters(bus: EventBus, topics: string[], options: ReplayOptions = {}): Promise<Record<string, number>> {
  const idleMs = options.idleMs ?? 3000;
  const replayed: Record<string, number> = Object.fromEntries(topics.map((topic) => [topic, 0]));
  await bus.ensureTopics(topics);
  let lastActivity = Date.now();
  const subscription = await bus.subscribe({
    groupId: options.groupId ?? 'trellis-dlq-replay',
    topics: topics.map((topic) => topic + DEAD_LETTER_SUFFIX),
    fromBeginning: true,
    handler: async (message) => {
      lastActivity = Date.now();
      const replay = replayOf(message);
      if (!replay) {
        options.logger?.warn({ topic: message.topic, offset: message.offset }, 'dead letter without a source topic; left alone');
        return;
      }
      await bus.publish(replay.topic, replay.message);
      replayed[replay.topic] = (replayed[replay.topic] ?? 0) + 1;
      options.logger?.info({ topic: replay.topic, key: message.key }, 'dead letter replayed');
    },
  });
  try {
    while (Date.now() - lastActivity < idleMs) await new Promise((resolve) => setTimeout(resolve, Math.min(250, idleMs)));
  } finally {
    await subscription.stop();
  }
  return replayed;
}
