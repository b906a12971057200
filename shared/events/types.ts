/** The events port: durable topics with keys and headers, read by consumer groups. */

export const DEAD_LETTER_SUFFIX = '.dlq';
/** Headers a dead-lettered message gains: why it failed and where it came from. */
export const DLQ_ERROR_HEADER = 'x-dlq-error';
export const DLQ_SOURCE_TOPIC_HEADER = 'x-dlq-source-topic';

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
   * Handles one message. A throw retries it (with backoff) up to `maxAttempts`, then the message
   * goes to `<topic>.dlq` with the error and the consumer moves on.
   */
  handler: (message: EventMessage) => Promise<void>;
  maxAttempts?: number;
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
