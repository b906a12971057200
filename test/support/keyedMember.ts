/**
 * One member of a consumer group as its own process, for the handover test: every handler writes
 * `start` and `end` lines (member, key, sequence number) to one Redis list, so the list's order
 * is one timeline across every member. It prints `member ready` once it holds partitions, leaves
 * the group on SIGTERM (stop: handlers end, offsets committed), and dies on SIGKILL. Environment:
 * KAFKA_BROKERS, REDIS_URL, MEMBER_ID, MEMBER_TOPIC, MEMBER_GROUP, MEMBER_LOG (the list's key),
 * MEMBER_HANDLER_MS (up to this much work per message).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import Redis from 'ioredis';
import { KafkaEventBus } from '@trellis/kit/internal/events';
import { createLogger } from '@trellis/kit';

const ROOT = path.resolve(__dirname, '..', '..');

export interface MemberEnv {
  kafkaBrokers: string[];
  redisUrl: string;
  topic: string;
  group: string;
  log: string;
  handlerMs: number;
}

/** A message of the test's stream: the n-th of its key. */
export interface Numbered {
  key: string;
  seq: number;
}

export function spawnMember(id: string, env: MemberEnv): ChildProcess {
  return spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, 'test/support/keyedMember.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      REDIS_URL: env.redisUrl,
      MEMBER_ID: id,
      MEMBER_TOPIC: env.topic,
      MEMBER_GROUP: env.group,
      MEMBER_LOG: env.log,
      MEMBER_HANDLER_MS: String(env.handlerMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function main(): Promise<void> {
  const id = process.env.MEMBER_ID as string;
  const log = process.env.MEMBER_LOG as string;
  const handlerMs = Number(process.env.MEMBER_HANDLER_MS ?? 5);
  const redis = new Redis(process.env.REDIS_URL as string);
  const logger = createLogger({ service: `member-${id}`, level: process.env.LOG_LEVEL ?? 'warn' }).child({ member: id });
  // The broker's minimum session: a killed member's partitions move on quickly.
  const bus = new KafkaEventBus({ brokers: (process.env.KAFKA_BROKERS as string).split(','), clientId: `member-${id}`, logger, sessionTimeoutMs: 6000 });
  const subscription = await bus.subscribe({
    groupId: process.env.MEMBER_GROUP as string,
    topics: [process.env.MEMBER_TOPIC as string],
    fromBeginning: true,
    handler: async (message) => {
      const { key, seq } = JSON.parse(message.value) as Numbered;
      await redis.rpush(log, `start ${id} ${key} ${seq}`);
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * handlerMs));
      await redis.rpush(log, `end ${id} ${key} ${seq}`);
    },
  });
  process.once('SIGTERM', () => {
    void (async () => {
      await subscription.stop();
      await bus.close();
      await redis.quit();
      process.exit(0);
    })();
  });
  process.stdout.write('member ready\n');
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`member ${process.env.MEMBER_ID}: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}
