/**
 * Kafka on the secured 3-broker cluster (`test/stack/up cluster`, KRaft, SASL_SSL with SCRAM):
 * the platform reaches it from the secured configuration the operators' guide shows, the topics it
 * makes are replicated as configured, and a client the cluster refuses (a wrong password, a CA
 * that did not sign the brokers' certificates) gets a clear BackendUnavailableError at once
 * instead of after a minute of kafkajs's retries. The EventBus contract itself runs on the cluster
 * from test/integration/contracts/eventBus.test.ts (npm run test:cluster).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigResourceTypes } from 'kafkajs';
import { KafkaEventBus, type EventBus, type EventMessage } from '@trellis/kit/internal/events';
import { kafkajsClient } from '@trellis/kit/internal/events/kafka/kafkajs/client';
import { connectBackends } from '@trellis/kit/internal/backends';
import { loadProcessConfig } from '@trellis/kit/internal/config';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';
import { createLogger } from '@trellis/kit';
import { uniquePrefix } from '../support/backends';
import { securedCluster, securedExample } from '../support/cluster';
import { eventually } from '../support/graphql';

const cluster = securedCluster();
/** Well under kafkajs's own retries of a refused connection (about a minute), with room for a loaded machine. */
const FAST_MS = 5000;

describe('Kafka on the secured cluster', () => {
  it('carries events on the secured configuration docs/operators.md shows, with the cluster’s brokers, CA and password put in', async () => {
    const env = process.env as Record<string, string>;
    const example = securedExample()
      .replace(/^KAFKA_BROKERS: .*$/m, `KAFKA_BROKERS: [${env.KAFKA_BROKERS}]`)
      .replace(/^KAFKA_SSL_CA_FILE: .*$/m, `KAFKA_SSL_CA_FILE: ${env.KAFKA_SSL_CA_FILE}`)
      .replace(/^KAFKA_SASL_USERNAME: .*$/m, `KAFKA_SASL_USERNAME: ${env.KAFKA_SASL_USERNAME}`)
      .replace(/^KAFKA_SASL_PASSWORD: .*$/m, `KAFKA_SASL_PASSWORD: ${env.KAFKA_SASL_PASSWORD}`);
    const folder = mkdtempSync(path.join(tmpdir(), 'kafka-secured-'));
    writeFileSync(path.join(folder, 'trellis.config.yaml'), example);
    // Only the file speaks: none of cluster.env's variables, the topic prefix aside.
    const config = loadProcessConfig({ KAFKA_TOPIC_PREFIX: `${uniquePrefix('docs')}.` }, folder);
    const backends = await connectBackends(config, createLogger({ service: 'cluster-test', level: 'silent' }), { uses: ['events'] });
    try {
      expect(backends.kinds.events).toBe('real');
      const received: EventMessage[] = [];
      await backends.events.ensureTopics(['orders']);
      const subscription = await backends.events.subscribe({ groupId: 'g', topics: ['orders'], fromBeginning: true, handler: async (m) => void received.push(m) });
      await backends.events.publish('orders', { key: 'o-1', value: 'placed' });
      await eventually(async () => expect(received.map((m) => m.value)).toEqual(['placed']), 30_000);
      await subscription.stop();
    } finally {
      await backends.close();
    }
  });

  it(`creates topics (and their dead-letter topics) with replication factor ${cluster.replicationFactor} and the configured min.insync.replicas`, async () => {
    const namespace = `${uniquePrefix('replicas')}.`;
    const bus = new KafkaEventBus({ ...cluster, clientId: 'cluster-topics', namespace });
    const admin = kafkajsClient(cluster).admin();
    try {
      await bus.ensureTopics(['payments']);
      await admin.connect();
      const topics = [`${namespace}payments`, `${namespace}payments.dlq`];
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      for (const topic of metadata) {
        expect([topic.name, topic.partitions.length]).toEqual([topic.name, cluster.partitions]);
        for (const partition of topic.partitions) {
          expect([topic.name, partition.partitionId, partition.replicas.length]).toEqual([topic.name, partition.partitionId, 3]);
        }
      }
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })),
      });
      expect(resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue])).toEqual(
        topics.map((name) => [name, cluster.topicConfigs?.['min.insync.replicas']]),
      );
      expect(cluster.topicConfigs?.['min.insync.replicas']).toBe('2');
    } finally {
      await admin.disconnect();
      await bus.close();
    }
  });

  it('sends the client certificate (mTLS): one the cluster’s CA signed is accepted, one from another CA is refused at once', async () => {
    // The cluster's SASL_SSL listeners check a client certificate when one is offered (ssl.client.auth=requested).
    const tlsDir = path.dirname(process.env.KAFKA_SSL_CA_FILE as string);
    const rogue = mkdtempSync(path.join(tmpdir(), 'rogue-ca-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: rogue, stdio: 'ignore' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=rogue CA', '-addext', 'basicConstraints=critical,CA:TRUE');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=rogue-client');
    openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '1');
    const withCertificate = (dir: string) => ({ ...cluster.tls, cert: readFileSync(path.join(dir, 'client.pem'), 'utf8'), key: readFileSync(path.join(dir, 'client.key'), 'utf8') });

    const trusted = new KafkaEventBus({ ...cluster, tls: withCertificate(tlsDir), clientId: 'cluster-mtls' });
    const untrusted = new KafkaEventBus({ ...cluster, tls: withCertificate(rogue), clientId: 'cluster-mtls' });
    try {
      await trusted.ensureTopics([uniquePrefix('mtls')]);
      const began = Date.now();
      const error = await untrusted.ensureTopics([uniquePrefix('mtls')]).catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toMatch(/refused this client \(TLS \+ SASL scram-sha-\d+\): .*alert certificate unknown/);
      expect(Date.now() - began).toBeLessThan(FAST_MS);
    } finally {
      await Promise.all([trusted.close(), untrusted.close()]);
    }
  });

  const refusedBy = (bus: EventBus): Array<[string, () => Promise<unknown>]> => [
    ['ensureTopics', () => bus.ensureTopics([uniquePrefix('refused')])],
    ['publish', () => bus.publish(uniquePrefix('refused'), { key: 'k', value: 'v' })],
    ['subscribe', () => bus.subscribe({ groupId: uniquePrefix('refused'), topics: [uniquePrefix('refused')], handler: async () => undefined })],
  ];

  it.each<[string, Partial<typeof cluster>, RegExp]>([
    ['a wrong password', { sasl: { ...(cluster.sasl as { mechanism: 'scram-sha-512'; username: string; password: string }), password: 'not-the-password' } }, /refused this client \(TLS \+ SASL scram-sha-\d+\): .*authentication failed/i],
    ['a CA that did not sign the brokers’ certificates (the system’s)', { tls: {} }, /refused this client \(TLS \+ SASL scram-sha-\d+\): .*self-signed certificate in certificate chain/i],
  ])('refuses %s within seconds, on every operation, with BackendUnavailableError', async (_case, override, reason) => {
    const bus = new KafkaEventBus({ ...cluster, ...override, clientId: 'cluster-refused' });
    try {
      for (const [operation, run] of refusedBy(bus)) {
        const began = Date.now();
        const error = await run().then(
          () => new Error(`${operation} succeeded`),
          (failure: unknown) => failure,
        );
        const tookMs = Date.now() - began;
        expect([operation, error]).toEqual([operation, expect.any(BackendUnavailableError)]);
        expect([operation, (error as Error).message]).toEqual([operation, expect.stringMatching(reason)]);
        expect([operation, tookMs < FAST_MS]).toEqual([operation, true]);
      }
    } finally {
      await bus.close();
    }
  });
});
