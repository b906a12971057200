/**
 * The secured Kafka cluster of `test/stack/up cluster` for the tests that need it (test/cluster):
 * its settings from the sourced test/stack/cluster.env, or a failure saying how to get them, so a
 * missing cluster is never a silent skip.
 */
import type { KafkaBusSettings } from '@trellis/kit/internal/backends/kafka';
import { realBackends } from './backends';

export const CLUSTER_HOWTO = 'run `npm run test:cluster`, or `test/stack/up cluster` then `set -a; source test/stack/cluster.env; set +a` before jest';

/** The shared cluster's bus settings; throws unless the environment points at a TLS + SASL cluster with replication. */
export function securedCluster(): KafkaBusSettings & Required<Pick<KafkaBusSettings, 'tls' | 'sasl' | 'replicationFactor'>> {
  const { kafka } = realBackends;
  if (!kafka.tls || !kafka.sasl || kafka.replicationFactor === undefined) {
    throw new Error(`these tests need the secured Kafka cluster (KAFKA_SSL, KAFKA_SASL_*, KAFKA_REPLICATION_FACTOR are not all set): ${CLUSTER_HOWTO}`);
  }
  return kafka as ReturnType<typeof securedCluster>;
}
