/** The events port: durable topics with keys and headers, read by consumer groups. */
import type { BackoffPolicy } from '../retry';

export const DEAD_LETTER_SUFFIX = '.dlq';
/** Headers a dead-lettered message gains: why it failed and where it came from. */
export const DLQ_ERROR_HEADER = 'x-dlq-error';
export const DLQ_SOURCE_TOPIC_HEADER = 'x-dlq-source-topic';
/** Set on a message put back on its topic from the dead-letter topic, with how many times it was. */
export const DLQ_REPLAYED_HEADER = 'x-dlq-replayed';

export interface OutgoingMessage {
  /** Messages with one key keep their order (one partition). */
  key?: string;
  value: string;
  headers?: Record<string, string>;
}

export interface EventMessage {
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
  timestamp: number;
}

export interface SubscribeOptions {
  /** Members of one group share the work; each message goes to one of them. */
  groupId: string;
  topics: string[];
  /** A new group starts at the oldest message instead of the next one. */
  fromBeginning?: boolean;
  /**
   * Handles one message; what a throw does depends on the error:
   * - retriable (`retriable: true`, e.g. Redis briefly down): the message is tried again with
   *   backoff for as long as the error stays retriable, holding back only its key (and the
   *   commit of the offsets after it), never letting a later message of its key pass;
   * - a `PoisonMessageError` (unparseable, fails its schema): to `<topic>.dlq` at once, with the reason;
   * - anything else: tried `maxAttempts` times in all, then to `<topic>.dlq` with the reason.
   * The consumer then moves on; nothing is lost and nothing blocks other partitions.
   * Messages of one key reach the handler one at a time, in order; different keys may overlap.
   */
  handler: (message: EventMessage) => Promise<void>;
  /** Attempts for errors that are neither retriable nor poison; 3 by default. */
  maxAttempts?: number;
  /** Backoff between attempts; `DEFAULT_BACKOFF` of shared/retry by default. */
  backoff?: BackoffPolicy;
}

export interface Subscription {
  stop(): Promise<void>;
}

export interface EventBus {
  /** Creates the topics (and their dead-letter topics) if they do not exist. */
  ensureTopics(topics: string[]): Promise<void>;
  /** Resolves once every message is durably acknowledged. */
  publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
