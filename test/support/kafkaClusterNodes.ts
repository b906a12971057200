/**
 * The brokers of `test/stack/up cluster`, for a test that kills one for real: which node leads a
 * partition (asked of the cluster), SIGKILL by the stack's pid file, and a restart through the
 * stack script, which returns once the node serves again.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { kafkajsClient } from '@trellis/kit/internal/events/kafka/kafkajs/client';
import type { KafkaEventBusOptions } from '@trellis/kit/internal/events';
import { alive } from './privateServers';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'test/stack/kafka-cluster.sh');
const STACK_HOME = process.env.TRELLIS_STACK_HOME || path.join(os.homedir(), '.cache', 'trellis-stack');
const run = promisify(execFile);

/** The SASL_SSL listeners of the stack's three nodes, as test/stack/cluster.env lists them. */
export const STACK_CLUSTER_BROKERS = ['127.0.0.1:19192', '127.0.0.1:19193', '127.0.0.1:19194'];

/** Whether `brokers` are the stack's cluster (so a test may kill and restart its nodes). */
export function onStackCluster(brokers: string[]): boolean {
  return brokers.join(',') === STACK_CLUSTER_BROKERS.join(',');
}

/** The pid the stack recorded for node `n` (1..3). */
function pidOf(node: number): number {
  return Number(readFileSync(path.join(STACK_HOME, 'run', `kafka-c${node}.pid`), 'utf8').trim());
}

/** The node id leading `partition` of `topic` (a name as on the broker, namespace included). */
export async function leaderOf(options: KafkaEventBusOptions, topic: string, partition = 0): Promise<number> {
  const admin = kafkajsClient({ ...options, clientId: 'chaos-leader' }, { retries: 2 }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const leader = topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
    if (leader === undefined || leader < 0) throw new Error(`no leader for ${topic}[${partition}]`);
    return leader;
  } finally {
    await admin.disconnect();
  }
}

/** SIGKILLs node `n`; resolves once the process is gone. */
export async function killNode(node: number): Promise<void> {
  const pid = pidOf(node);
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Starts the given nodes (all when none are given); resolves once each serves its listeners. */
export async function startNodes(...nodes: number[]): Promise<void> {
  await run('bash', [SCRIPT, 'start', ...nodes.map(String)], { cwd: ROOT, timeout: 180_000 });
}

/** Stops every node (SIGTERM, a controlled shutdown); resolves once all are gone. */
export async function stopNodes(): Promise<void> {
  await run('bash', [SCRIPT, 'stop'], { cwd: ROOT, timeout: 120_000 });
}
