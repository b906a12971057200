/**
 * Writes that wait for replicas (REDIS_MIN_REPLICAS_ACK): the write and a `WAIT n timeout` go in
 * one pipeline on one connection (on Cluster, to the node of the write's slot), so the WAIT counts
 * the replicas that have this write. Fewer than n within the timeout is an error the caller sees,
 * and is counted: the write is on the primary, but a failover now could lose it.
 */
import { Counter, type Registry } from 'prom-client';
import { ErrorCode, TrellisError } from '../errors';
import { singleMetric } from '../metrics';

export interface ReplicaAckOptions {
  /** Replicas that must have a write before it resolves; 0: none (Redis's asynchronous replication). */
  minReplicas: number;
  /** How long a write waits for them. */
  timeoutMs: number;
}

/** A write the primary made but fewer than the asked replicas confirmed in time; retrying it is safe for compare-and-set writes (it conflicts or repeats). */
export class ReplicaAckTimeoutError extends TrellisError {
  constructor(acked: number, options: ReplicaAckOptions) {
    super(
      ErrorCode.BACKEND_TIMEOUT,
      `redis: ${acked} of ${options.minReplicas} replicas confirmed the write within ${options.timeoutMs} ms (REDIS_MIN_REPLICAS_ACK); a failover now could lose it`,
      { retriable: true },
    );
  }
}

export const REPLICA_ACK_TIMEOUTS_METRIC = 'trellis_state_replica_ack_timeouts_total';

/** Counts writes whose replicas did not confirm them in time. */
export function replicaAckTimeouts(registry: Registry): Counter {
  return singleMetric(
    registry,
    REPLICA_ACK_TIMEOUTS_METRIC,
    () =>
      new Counter({
        name: REPLICA_ACK_TIMEOUTS_METRIC,
        help: 'State-store writes that fewer replicas than REDIS_MIN_REPLICAS_ACK confirmed within REDIS_REPLICA_ACK_TIMEOUT_MS',
        registers: [registry],
      }),
  );
}
