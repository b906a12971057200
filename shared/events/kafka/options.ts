/**
 * What every Kafka event bus takes, whichever client speaks to the broker: where the cluster is,
 * how to authenticate, how topics are made, and the timings of consumers and publishes.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../../logging';
import type { Clock } from '../../saga/clock';

/**
 * The Kafka clients Trellis can use (`KAFKA_CLIENT`): kafkajs (the design's original client, no
 * release since 2023) and @platformatic/kafka (maintained, pure JS).
 */
export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

/** SASL mechanisms a secured cluster may ask for (`KAFKA_SASL_MECHANISM`). */
export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** TLS to the brokers; PEM text, not paths (the config module reads the files). */
export interface KafkaTls {
  /** Certificate authorities to trust instead of the system's. */
  ca?: string;
  /** Client certificate and key, for clusters that require mTLS. */
  cert?: string;
  key?: string;
}

export type KafkaSasl =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  /** OAUTHBEARER: a bearer token, fetched again whenever the client reconnects. */
  | { mechanism: 'oauthbearer'; token: () => Promise<string> };

export interface KafkaEventBusOptions {
  brokers: string[];
  clientId?: string;
  logger?: Logger;
  /** TLS to the brokers (`KAFKA_SSL`); plaintext when absent. */
  tls?: KafkaTls;
  /** SASL authentication; none when absent. */
  sasl?: KafkaSasl;
  /** Partitions of topics this bus creates. */
  partitions?: number;
  /** Replicas of topics this bus creates; the broker's default when absent. */
  replicationFactor?: number;
  /** Topic configs set when this bus creates a topic, e.g. `{ 'min.insync.replicas': '2', 'retention.ms': '604800000' }`. */
  topicConfigs?: Record<string, string>;
  /**
   * Prefix of every topic and consumer group on the broker, so several platforms (or test runs)
   * can share one cluster; callers keep using the plain names.
   */
  namespace?: string;
  /** Longest a fetch waits for new messages before it returns empty (and a resumed partition is fetched again). */
  maxWaitTimeMs?: number;
  /** Most messages of one partition a consumer takes past its first unsettled one (keys run at once within it); 256 by default. */
  window?: number;
  /** How long the group waits for a silent consumer before handing its partitions to others. */
  sessionTimeoutMs?: number;
  /**
   * Longest one publish may take, connecting and the client's own retries included (default 15 s).
   * Past it the publish fails as retriable and the producer is made anew: a hung broker, or a
   * producer stuck after a broker restart, must not hold a caller (the saga sweeper) for minutes.
   */
  publishTimeoutMs?: number;
  /**
   * How long a publish waits for others to join its produce request (`KAFKA_LINGER_MS`). Whatever
   * is published while a request is in flight goes in the next one anyway; the linger gathers
   * what arrives within a few ms of an idle producer, at that much latency per message.
   */
  lingerMs?: number;
  /** Where requests by API and produced messages are counted (`trellis_kafka_*`); uncounted when absent. */
  registry?: Registry;
  /** Times the linger and publish deadlines; injected so tests drive time. */
  clock?: Clock;
}

export const JOIN_TIMEOUT_MS = 30_000;
/** Default longest publish (see `publishTimeoutMs`): one slow answer within the request timeout (10 s) is still waited for. */
export const PUBLISH_TIMEOUT_MS = 15_000;
/** Default linger (see `lingerMs`): short next to a saga step, long enough to gather concurrent handlers' publishes. */
export const LINGER_MS = 2;
/** Attempts at creating topics and at subscribing while a just-made topic's metadata settles. */
export const TOPIC_ATTEMPTS = 5;
export const DEFAULT_PARTITIONS = 3;
