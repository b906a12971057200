/**
 * The Kafka settings (shared/config/kafka.ts): what the variables become, and each combination
 * that cannot work refused at start with a message naming the variables.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { formatConfig, loadConfig, loadProcessConfig, productionProblems, type Env } from '@trellis/kit/internal/config';
import { securedExample } from '../../../support/cluster';
import { configRefusal } from '../../../support/configRefusal';

const dir = mkdtempSync(path.join(tmpdir(), 'kafka-config-'));
const pem = (name: string, body = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n') => {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  return file;
};
const CA = pem('ca.pem');
const CERT = pem('client.pem');
const KEY = pem('client.key', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
const NOT_PEM = pem('ca.der', '0\x82\x01\x0a');
const SCRAM = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'trellis', KAFKA_SASL_PASSWORD: 'secret' };

const refusal = configRefusal;

describe('Kafka settings', () => {
  it('default to the kafkajs client, plaintext, no login, 3 partitions and the broker’s replication', () => {
    expect(loadConfig({}).kafka).toEqual({ topicPrefix: '', client: 'kafkajs', ssl: undefined, sasl: undefined, partitions: 3, replicationFactor: undefined, topicConfigs: {}, lingerMs: 2 });
  });

  it('read a secured cluster: TLS with a CA and a client certificate, SCRAM, replication and topic configs', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'k1:9093',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: CA,
      KAFKA_SSL_CERT_FILE: CERT,
      KAFKA_SSL_KEY_FILE: KEY,
      ...SCRAM,
      KAFKA_PARTITIONS: '6',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
      KAFKA_RETENTION_MS: '-1',
      KAFKA_LINGER_MS: '0',
    });
    expect(config.kafka).toEqual({
      topicPrefix: '',
      client: 'kafkajs',
      ssl: { caFile: CA, certFile: CERT, keyFile: KEY },
      sasl: { mechanism: 'scram-sha-512', username: 'trellis', password: 'secret' },
      partitions: 6,
      replicationFactor: 3,
      topicConfigs: { 'min.insync.replicas': '2', 'retention.ms': '-1' },
      lingerMs: 0,
    });
  });

  it('read OAUTHBEARER as a client-credentials grant: the client id and secret in the username and password', () => {
    const config = loadConfig({
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'oauthbearer',
      KAFKA_SASL_USERNAME: 'trellis-client',
      KAFKA_SASL_PASSWORD: 'client-secret',
      KAFKA_SASL_OAUTHBEARER_TOKEN_URL: 'https://id.example/oauth2/token',
      KAFKA_SASL_OAUTHBEARER_SCOPE: 'kafka',
    });
    expect(config.kafka.sasl).toEqual({ mechanism: 'oauthbearer', tokenUrl: 'https://id.example/oauth2/token', clientId: 'trellis-client', clientSecret: 'client-secret', scope: 'kafka' });
    expect(config.kafka.ssl).toEqual({ caFile: undefined, certFile: undefined, keyFile: undefined });
  });

  it('never print the SASL password or the OAuth client secret (--print-config)', () => {
    const scram = formatConfig(loadConfig({ KAFKA_SSL: 'true', ...SCRAM, KAFKA_SASL_PASSWORD: 'scram-password-123' }));
    const oauth = formatConfig(
      loadConfig({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_USERNAME: 'c', KAFKA_SASL_PASSWORD: 'client-secret-456', KAFKA_SASL_OAUTHBEARER_TOKEN_URL: 'https://id.example/token' }),
    );
    expect(scram).toContain('"mechanism": "scram-sha-512"');
    expect(scram).not.toContain('scram-password-123');
    expect(oauth).not.toContain('client-secret-456');
  });

  it.each<[string, Env, string]>([
    ['a mechanism without a password', { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_MECHANISM=plain needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (the user and password)'],
    ['a mechanism without a username', { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_MECHANISM=scram-sha-256 needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD'],
    ['oauthbearer without client credentials', { KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_TOKEN_URL: 'https://id.example/token' }, 'KAFKA_SASL_MECHANISM=oauthbearer needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (the OAuth client id and secret)'],
    ['oauthbearer without a token endpoint', { KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_USERNAME: 'c', KAFKA_SASL_PASSWORD: 's' }, 'KAFKA_SASL_MECHANISM=oauthbearer needs KAFKA_SASL_OAUTHBEARER_TOKEN_URL'],
    ['a token endpoint without oauthbearer', { ...SCRAM, KAFKA_SASL_OAUTHBEARER_TOKEN_URL: 'https://id.example/token' }, 'KAFKA_SASL_OAUTHBEARER_TOKEN_URL is set but KAFKA_SASL_MECHANISM is not oauthbearer'],
    ['a username without a mechanism', { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM is not'],
    ['a password without a mechanism', { KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_PASSWORD is set but KAFKA_SASL_MECHANISM is not'],
    ['an unknown mechanism', { ...SCRAM, KAFKA_SASL_MECHANISM: 'gssapi' }, 'KAFKA_SASL_MECHANISM="gssapi"'],
    ['a certificate without its key', { KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: CERT }, 'KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE (mTLS needs both)'],
    ['a key without its certificate', { KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: KEY }, 'KAFKA_SSL_KEY_FILE is set without KAFKA_SSL_CERT_FILE (mTLS needs both)'],
    ['a CA file without KAFKA_SSL', { KAFKA_SSL_CA_FILE: CA }, 'KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true'],
    ['an unreadable CA file', { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: path.join(dir, 'missing.pem') }, `KAFKA_SSL_CA_FILE=${JSON.stringify(path.join(dir, 'missing.pem'))}: cannot read it (ENOENT`],
    ['an unreadable certificate file', { KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: dir, KAFKA_SSL_KEY_FILE: KEY }, `KAFKA_SSL_CERT_FILE=${JSON.stringify(dir)}: cannot read it (EISDIR`],
    ['a CA file that is no PEM', { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: NOT_PEM }, `KAFKA_SSL_CA_FILE=${JSON.stringify(NOT_PEM)}: not a PEM file`],
    ['more in-sync replicas than replicas', { KAFKA_REPLICATION_FACTOR: '2', KAFKA_MIN_INSYNC_REPLICAS: '3' }, 'KAFKA_MIN_INSYNC_REPLICAS=3 is above KAFKA_REPLICATION_FACTOR=2: no write could ever be acknowledged'],
    ['no partitions', { KAFKA_PARTITIONS: '0' }, 'KAFKA_PARTITIONS="0": Number must be greater than or equal to 1'],
    ['a replication factor of 0', { KAFKA_REPLICATION_FACTOR: '0' }, 'KAFKA_REPLICATION_FACTOR="0": Number must be greater than or equal to 1'],
    ['a retention below -1', { KAFKA_RETENTION_MS: '-2' }, 'KAFKA_RETENTION_MS="-2": Number must be greater than or equal to -1'],
    ['an unknown client', { KAFKA_CLIENT: 'node-rdkafka' }, 'KAFKA_CLIENT="node-rdkafka"'],
    ['KAFKA_SSL neither true nor false', { KAFKA_SSL: 'yes' }, 'KAFKA_SSL="yes"'],
  ])('refuse %s', (_case, env, message) => {
    expect(refusal(env)).toContain(message);
  });
});

describe('the secured configuration shown in docs/operators.md', () => {
  it('loads, as a trellis.config.yaml, into TLS with the CA, SCRAM-SHA-512, replication factor 3 and min.insync.replicas 2', () => {
    const example = parse(securedExample()) as Record<string, unknown>;
    expect(example.KAFKA_SSL_CA_FILE).toBe('/etc/trellis/kafka-ca.pem');
    const folder = mkdtempSync(path.join(tmpdir(), 'kafka-doc-'));
    writeFileSync(path.join(folder, 'trellis.config.yaml'), securedExample().replace('/etc/trellis/kafka-ca.pem', CA));
    const config = loadProcessConfig({}, folder);
    expect(config.backends.kafkaBrokers).toEqual(['b-1.kafka.example.com:9096', 'b-2.kafka.example.com:9096', 'b-3.kafka.example.com:9096']);
    expect(config.kafka).toMatchObject({
      ssl: { caFile: CA },
      sasl: { mechanism: 'scram-sha-512', username: 'trellis', password: 'change-me' },
      replicationFactor: 3,
      topicConfigs: { 'min.insync.replicas': '2' },
    });
  });
});

describe('Kafka in production', () => {
  const SAFE: Env = {
    NODE_ENV: 'production',
    REDIS_URL: 'redis://redis:6379',
    KAFKA_BROKERS: 'kafka:9093',
    CONSUL_HTTP_ADDR: 'http://consul:8500',
    CONSUL_HTTP_TOKEN: 'a-consul-acl-token',
    SUBGRAPH_ALLOW: 'users',
  };
  const SUBGRAPH = { backends: ['discovery', 'state', 'events'] as const };

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('refuses SASL %s without TLS (credentials and events in clear), unless TRELLIS_ALLOW_KAFKA_SASL_WITHOUT_TLS=true', (mechanism) => {
    const env = { ...SAFE, ...SCRAM, KAFKA_SASL_MECHANISM: mechanism };
    expect(productionProblems(loadConfig(env), SUBGRAPH)).toEqual([
      { problem: `KAFKA_SASL_MECHANISM=${mechanism} without KAFKA_SSL=true: the Kafka login and every event cross the network in clear`, optOut: 'TRELLIS_ALLOW_KAFKA_SASL_WITHOUT_TLS' },
    ]);
    expect(productionProblems(loadConfig({ ...env, TRELLIS_ALLOW_KAFKA_SASL_WITHOUT_TLS: 'true' }), SUBGRAPH)).toEqual([]);
    expect(productionProblems(loadConfig({ ...env, KAFKA_SSL: 'true' }), SUBGRAPH)).toEqual([]);
  });

  it('holds only processes that use the event bus, and asks nothing outside production', () => {
    const env = { ...SAFE, ...SCRAM };
    expect(productionProblems(loadConfig(env), { backends: ['state'] })).toEqual([]);
    expect(productionProblems(loadConfig({ ...env, NODE_ENV: 'development' }), SUBGRAPH)).toEqual([]);
  });
});
