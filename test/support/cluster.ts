/**
 * The secured Kafka cluster of `test/stack/up cluster` for the tests that need it (test/cluster):
 * its settings from the sourced test/stack/cluster.env, or a failure saying how to get them, so a
 * missing cluster is never a silent skip.
 */
import type { KafkaBusSettings } from '@trellis/kit/internal/backends/kafka';
import { realBackends } from './backends';
import { fencedBlocks, readDoc } from './markdown';

export const CLUSTER_HOWTO = 'run `npm run test:cluster`, or `test/stack/up cluster` then `set -a; source test/stack/cluster.env; set +a` before jest';

/** The shared cluster's bus settings; throws unless the environment points at a TLS + SASL cluster with replication. */
export function securedCluster(): KafkaBusSettings & Required<Pick<KafkaBusSettings, 'tls' | 'sasl' | 'replicationFactor'>> {
  const { kafka } = realBackends;
  if (!kafka.tls || !kafka.sasl || kafka.replicationFactor === undefined) {
    throw new Error(`these tests need the secured Kafka cluster (KAFKA_SSL, KAFKA_SASL_*, KAFKA_REPLICATION_FACTOR are not all set): ${CLUSTER_HOWTO}`);
  }
  return kafka as ReturnType<typeof securedCluster>;
}

/** The YAML block of docs/operators.md's "Kafka: secured and managed clusters", as the page shows it. */
export function securedExample(): string {
  const doc = readDoc('docs/operators.md');
  const line = doc.slice(0, doc.indexOf('### Kafka: secured and managed clusters')).split('\n').length;
  const block = fencedBlocks(doc).find((candidate) => candidate.line > line && candidate.language === 'yaml');
  if (!block) throw new Error('no yaml block under "Kafka: secured and managed clusters" in docs/operators.md');
  return block.body;
}
