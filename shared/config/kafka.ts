/**
 * The Kafka variables beyond KAFKA_BROKERS: which client, TLS and SASL to the brokers, and how
 * topics are made. Combinations that cannot work (a mechanism without credentials, a certificate
 * without its key, more in-sync replicas than replicas) stop start-up naming the variables.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors';
import { KAFKA_CLIENTS, KAFKA_SASL_MECHANISMS, type KafkaClientName } from '../events/kafka/options';

const flag = z.enum(['true', 'false']).default('false').transform((value) => value === 'true');
const file = z.string().min(1).optional();

/** The variables, merged into the config schema (index.ts). */
export const kafkaEnvShape = {
  /** Which client speaks to the brokers (shared/events/kafka). */
  KAFKA_CLIENT: z.enum(KAFKA_CLIENTS).default('kafkajs'),
  /** TLS to the brokers; the system's CAs unless KAFKA_SSL_CA_FILE names one. */
  KAFKA_SSL: flag,
  KAFKA_SSL_CA_FILE: file,
  /** Client certificate and key (PEM files), for clusters that require mTLS. */
  KAFKA_SSL_CERT_FILE: file,
  KAFKA_SSL_KEY_FILE: file,
  KAFKA_SASL_MECHANISM: z.enum(KAFKA_SASL_MECHANISMS).optional(),
  /** plain/scram: the user; oauthbearer: the OAuth client id. */
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** plain/scram: the password; oauthbearer: the OAuth client secret. */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** oauthbearer: the token endpoint a client-credentials grant is made to. */
  KAFKA_SASL_OAUTHBEARER_TOKEN_URL: z.string().trim().url().optional(),
  /** oauthbearer: the scope asked for, if the provider wants one. */
  KAFKA_SASL_OAUTHBEARER_SCOPE: z.string().min(1).optional(),
  /** Partitions of the topics Trellis creates (existing topics are left as they are). */
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(10_000).default(3),
  /** Replicas of the topics Trellis creates; unset: the broker's default.replication.factor. */
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(32).optional(),
  /** `min.insync.replicas` of the topics Trellis creates; unset: the broker's default. */
  KAFKA_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).max(32).optional(),
  /** `retention.ms` of the topics Trellis creates (-1: for ever); unset: the broker's default. */
  KAFKA_RETENTION_MS: z.coerce.number().int().min(-1).optional(),
  /** How long a publish waits for others to share its produce request (0: none; one request is in flight at a time regardless). */
  KAFKA_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(2),
};

type KafkaEnv = z.infer<z.ZodObject<typeof kafkaEnvShape>>;

export type KafkaSaslSettings =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };

/** Files, not their text: the config is printed (`--print-config`), a key's text must not be. */
export interface KafkaSslSettings {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface KafkaSettings {
  /** Prefix of every topic and consumer group (KAFKA_TOPIC_PREFIX). */
  topicPrefix: string;
  client: KafkaClientName;
  /** TLS to the brokers; undefined: plaintext. */
  ssl?: KafkaSslSettings;
  sasl?: KafkaSaslSettings;
  partitions: number;
  /** Undefined: the broker's default. */
  replicationFactor?: number;
  /** Configs of topics Trellis creates (`min.insync.replicas`, `retention.ms`). */
  topicConfigs: Record<string, string>;
  /** KAFKA_LINGER_MS. */
  lingerMs: number;
}

/** The settings, or a ConfigError naming every variable of the first bad combination. */
export function kafkaSettings(env: KafkaEnv & { KAFKA_TOPIC_PREFIX: string }): KafkaSettings {
  const refuse = (message: string): never => {
    throw new ConfigError(`Invalid configuration: ${message}`);
  };
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
  if (!mechanism && (username || password)) {
    refuse(`${username ? 'KAFKA_SASL_USERNAME' : 'KAFKA_SASL_PASSWORD'} is set but KAFKA_SASL_MECHANISM is not (plain, scram-sha-256, scram-sha-512 or oauthbearer)`);
  }
  if (mechanism && (!username || !password)) {
    const what = mechanism === 'oauthbearer' ? 'the OAuth client id and secret' : 'the user and password';
    refuse(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (${what})`);
  }
  if (mechanism === 'oauthbearer' && !env.KAFKA_SASL_OAUTHBEARER_TOKEN_URL) {
    refuse('KAFKA_SASL_MECHANISM=oauthbearer needs KAFKA_SASL_OAUTHBEARER_TOKEN_URL (the token endpoint of the client-credentials grant)');
  }
  if (mechanism !== 'oauthbearer' && (env.KAFKA_SASL_OAUTHBEARER_TOKEN_URL || env.KAFKA_SASL_OAUTHBEARER_SCOPE)) {
    refuse(`KAFKA_SASL_OAUTHBEARER_${env.KAFKA_SASL_OAUTHBEARER_TOKEN_URL ? 'TOKEN_URL' : 'SCOPE'} is set but KAFKA_SASL_MECHANISM is not oauthbearer`);
  }
  const files = { KAFKA_SSL_CA_FILE: env.KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE: env.KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE: env.KAFKA_SSL_KEY_FILE };
  const given = Object.entries(files).filter(([, path]) => path !== undefined);
  if (!env.KAFKA_SSL && given.length > 0) refuse(`${given[0][0]} is set but KAFKA_SSL is not true`);
  if (!!env.KAFKA_SSL_CERT_FILE !== !!env.KAFKA_SSL_KEY_FILE) {
    refuse(env.KAFKA_SSL_CERT_FILE ? 'KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE (mTLS needs both)' : 'KAFKA_SSL_KEY_FILE is set without KAFKA_SSL_CERT_FILE (mTLS needs both)');
  }
  // Read now, so an unreadable file stops start-up rather than the first connection.
  for (const [variable, path] of given) readPemFile(variable, path as string);
  const { KAFKA_REPLICATION_FACTOR: replicas, KAFKA_MIN_INSYNC_REPLICAS: minInsync } = env;
  if (replicas !== undefined && minInsync !== undefined && minInsync > replicas) {
    refuse(`KAFKA_MIN_INSYNC_REPLICAS=${minInsync} is above KAFKA_REPLICATION_FACTOR=${replicas}: no write could ever be acknowledged`);
  }

  const topicConfigs: Record<string, string> = {};
  if (minInsync !== undefined) topicConfigs['min.insync.replicas'] = String(minInsync);
  if (env.KAFKA_RETENTION_MS !== undefined) topicConfigs['retention.ms'] = String(env.KAFKA_RETENTION_MS);
  return {
    topicPrefix: env.KAFKA_TOPIC_PREFIX,
    client: env.KAFKA_CLIENT,
    ssl: env.KAFKA_SSL ? { caFile: env.KAFKA_SSL_CA_FILE, certFile: env.KAFKA_SSL_CERT_FILE, keyFile: env.KAFKA_SSL_KEY_FILE } : undefined,
    sasl: saslSettings(env),
    partitions: env.KAFKA_PARTITIONS,
    replicationFactor: replicas,
    topicConfigs,
    lingerMs: env.KAFKA_LINGER_MS,
  };
}

function saslSettings(env: KafkaEnv): KafkaSaslSettings | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username = '', KAFKA_SASL_PASSWORD: password = '' } = env;
  if (!mechanism) return undefined;
  if (mechanism === 'oauthbearer') {
    return { mechanism, tokenUrl: env.KAFKA_SASL_OAUTHBEARER_TOKEN_URL as string, clientId: username, clientSecret: password, scope: env.KAFKA_SASL_OAUTHBEARER_SCOPE };
  }
  return { mechanism, username, password };
}

/** A PEM file's text; a ConfigError naming `variable` when it cannot be read or holds no PEM block. */
export function readPemFile(variable: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${variable}=${JSON.stringify(path)}: cannot read it (${(error as Error).message})`);
  }
  if (!text.includes('-----BEGIN ')) throw new ConfigError(`Invalid configuration: ${variable}=${JSON.stringify(path)}: not a PEM file (no -----BEGIN line)`);
  return text;
}
