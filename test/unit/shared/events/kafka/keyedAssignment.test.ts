/** The partitions of one keyed consumer's generation: halting them all, and committing only what moved. */
import { KeyedPartition } from '@trellis/kit/internal/events/kafka/keyedPartition';
import { KeyedAssignment } from '@trellis/kit/internal/events/kafka/keyedAssignment';
import { message, scripted } from './scriptedDelivery';

describe('KeyedAssignment', () => {
  const settled = async () => 'settled' as const;

  it('commits each partition whose settled prefix moved, once, and nothing after a new generation began', async () => {
    const assignment = new KeyedAssignment(() => new KeyedPartition({ deliver: settled, window: 10 }));
    const p0 = assignment.partition('t', 0)!;
    const p1 = assignment.partition('u', 1)!;
    p0.open();
    p1.open();
    p0.offer(message(0, 'a'));
    p1.offer(message(7, 'a'));
    await assignment.idle();
    const sent: unknown[] = [];
    const commit = async (offsets: unknown) => void sent.push(offsets);
    expect(await assignment.commitDue(commit)).toEqual([
      { topic: 't', partition: 0, offset: '1' },
      { topic: 'u', partition: 1, offset: '8' },
    ]);
    expect(await assignment.commitDue(commit)).toEqual([]);
    expect(sent).toHaveLength(1);

    p0.offer(message(1, 'a'));
    await assignment.idle();
    let release!: () => void;
    const slow = assignment.commitDue(() => new Promise<void>((resolve) => (release = resolve)));
    assignment.reset();
    release();
    await slow;
    // The new generation starts from the group's offsets: nothing of the old one is recorded for it.
    const again = assignment.partition('t', 0)!;
    expect(again).not.toBe(p0);
    expect(assignment.due()).toEqual([]);
  });

  it('halts every partition until the next generation', async () => {
    const handler = scripted();
    const assignment = new KeyedAssignment(() => new KeyedPartition({ deliver: handler.deliver, window: 10 }));
    const p0 = assignment.partition('t', 0)!;
    p0.open();
    p0.offer(message(0, 'a'));
    assignment.halt();
    expect(assignment.partition('t', 0)).toBeUndefined();
    p0.offer(message(1, 'b'));
    expect(handler.running()).toEqual(['a@0']);
    let idle = false;
    const waiting = assignment.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    await handler.finish('a@0');
    await waiting;
    assignment.reset();
    expect(assignment.halted).toBe(false);
    expect(assignment.partition('t', 0)).toBeDefined();
  });
});
