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

  it('keeps one state per partition within a generation, and a new generation commits from scratch', async () => {
    const assignment = new KeyedAssignment(() => new KeyedPartition({ deliver: settled, window: 10 }));
    const p0 = assignment.partition('t', 0)!;
    expect(assignment.partition('t', 0)).toBe(p0);
    p0.open();
    p0.offer(message(0, 'a'));
    await assignment.idle();
    expect(await assignment.commitDue(async () => undefined)).toEqual([{ topic: 't', partition: 0, offset: '1' }]);
    assignment.reset();
    expect(p0.revoked).toBe(true);
    // The same offset in the new generation is due again: what was committed in the old one is forgotten.
    const again = assignment.partition('t', 0)!;
    again.open();
    again.offer(message(0, 'a'));
    await assignment.idle();
    expect(assignment.due()).toEqual([{ topic: 't', partition: 0, offset: '1' }]);
  });

  it('records a commit that completed in its own generation, so it is not sent again', async () => {
    const assignment = new KeyedAssignment(() => new KeyedPartition({ deliver: settled, window: 10 }));
    const p0 = assignment.partition('t', 0)!;
    p0.open();
    p0.offer(message(0, 'a'));
    await assignment.idle();
    const sent: unknown[] = [];
    await assignment.commitDue(async (offsets) => void sent.push(offsets));
    await assignment.commitDue(async (offsets) => void sent.push(offsets));
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: '1' }]]);
  });

  it('does not record a commit that completed after a new generation began', async () => {
    const assignment = new KeyedAssignment(() => new KeyedPartition({ deliver: settled, window: 10 }));
    const p0 = assignment.partition('t', 0)!;
    p0.open();
    p0.offer(message(0, 'a'));
    await assignment.idle();
    let release!: () => void;
    const slow = assignment.commitDue(() => new Promise<void>((resolve) => (release = resolve)));
    assignment.reset();
    release();
    await slow;
    // The new generation reaches the same offset: it is due, whatever the old generation's commit did.
    const again = assignment.partition('t', 0)!;
    again.open();
    again.offer(message(0, 'a'));
    await assignment.idle();
    expect(assignment.due()).toEqual([{ topic: 't', partition: 0, offset: '1' }]);
  });
});

