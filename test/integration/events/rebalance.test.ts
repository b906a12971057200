/**
 * Settles the handover doubt of the keyed Kafka consumer on the real broker, with member
 * processes of one group under steady load (many keys, many messages each, handlers of a few ms):
 * a member joins, one leaves (stop), one is SIGKILLed. Every handler writes its start and end to
 * one Redis list, the timeline test/support/handoverTimeline.ts checks: no key on two members at
 * once, each key in order (a SIGKILL may repeat the killed member's uncommitted suffix, nothing
 * else repeats), every message handled.
 */
import type { ChildProcess } from 'node:child_process';
import Redis from 'ioredis';
import { KafkaEventBus } from '@trellis/kit/internal/events';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';
import { spawnMember, type MemberEnv } from '../../support/keyedMember';
import { checkTimeline } from '../../support/handoverTimeline';
import { killChild } from '../../support/processRunner';

const KEYS = 40;
const PARTITIONS = 6;

function ready(child: ChildProcess, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('member ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`member ${id} exited (${signal ?? code}) before it was ready: ${stderrOf.get(child) ?? ''}`)));
  });
}

const stderrOf = new WeakMap<ChildProcess, string>();

describe('keyed consumer group handover under load', () => {
  const redis = new Redis(realBackends.redisUrl);
  const bus = new KafkaEventBus({ brokers: realBackends.kafkaBrokers, clientId: 'handover-producer', partitions: PARTITIONS });
  const members = new Map<string, ChildProcess>();
  const env: MemberEnv = {
    kafkaBrokers: realBackends.kafkaBrokers,
    redisUrl: realBackends.redisUrl,
    topic: uniquePrefix('handover'),
    group: uniquePrefix('handover-group'),
    log: uniquePrefix('handover-log'),
    handlerMs: 4,
  };

  const start = async (id: string) => {
    const child = spawnMember(id, env);
    stderrOf.set(child, '');
    child.stderr?.on('data', (chunk: Buffer) => stderrOf.set(child, (stderrOf.get(child)! + chunk.toString()).slice(-20_000)));
    members.set(id, child);
    await ready(child, id);
  };
  const ends = async () => (await redis.lrange(env.log, 0, -1)).filter((line) => line.startsWith('end ')).length;

  afterAll(async () => {
    await Promise.all([...members.values()].map((child) => killChild(child)));
    await redis.del(env.log);
    redis.disconnect();
    await bus.close();
  });

  it('never runs a key on two members at once, keeps each key in order, and handles every message', async () => {
    await bus.ensureTopics([env.topic]);
    await Promise.all(['a', 'b', 'c'].map(start));

    // Steady load: one message per key every 150 ms, until the three handovers are done.
    const lastSeq = new Map<string, number>();
    let publishing = true;
    const load = (async () => {
      for (let seq = 0; publishing || seq < 20; seq++) {
        const round = Array.from({ length: KEYS }, (_, k) => ({ key: `key-${k}`, value: JSON.stringify({ key: `key-${k}`, seq }) }));
        await bus.publish(env.topic, round);
        for (const { key } of round) lastSeq.set(key, seq);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();

    // Each change lands while messages flow: after the previous one's effect is visible in the timeline.
    await eventually(async () => expect(await ends()).toBeGreaterThan(400), 60_000, 100);
    await start('d');
    const afterJoin = await ends();
    await eventually(async () => expect(await ends()).toBeGreaterThan(afterJoin + 400), 60_000, 100);

    const leaving = members.get('b')!;
    const left = new Promise((resolve) => leaving.once('exit', resolve));
    leaving.kill('SIGTERM');
    expect(await left).toBe(0);
    const afterLeave = await ends();
    await eventually(async () => expect(await ends()).toBeGreaterThan(afterLeave + 400), 60_000, 100);

    await killChild(members.get('c')!);
    await redis.rpush(env.log, 'killed c');
    const afterKill = await ends();
    // The killed member's partitions move on after its session times out (6 s), then the rest flows.
    await eventually(async () => expect(await ends()).toBeGreaterThan(afterKill + 600), 90_000, 100);
    publishing = false;
    await load;

    const total = [...lastSeq.values()].reduce((sum, last) => sum + last + 1, 0);
    const report = await eventually(async () => {
      const checked = checkTimeline(await redis.lrange(env.log, 0, -1), lastSeq);
      expect(checked.handled).toBe(total);
      return checked;
    }, 90_000, 250);
    expect(report.breaches).toEqual([]);
    process.stdout.write(`handover: ${total} messages on ${KEYS} keys, ${report.repeats} started again after the SIGKILL\n`);
  }, 360_000);
});
