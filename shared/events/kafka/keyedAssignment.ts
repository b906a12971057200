/**
 * The partitions one keyed consumer holds in the current generation of its group, whichever
 * client: each partition's keyed state (keyedPartition.ts), a halt that stops every handler from
 * starting while a rebalance or a stop is under way, and the offsets due for a commit.
 */
import { KeyedPartition } from './keyedPartition';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export class KeyedAssignment {
  private partitions = new Map<string, KeyedPartition>();
  /** What was last committed per partition, in this generation. */
  private committed = new Map<string, string>();
  private isHalted = false;

  constructor(private readonly make: (topic: string, partition: number) => KeyedPartition) {}

  get halted(): boolean {
    return this.isHalted;
  }

  /** The partition's state in this generation, made on first use; undefined while halted. */
  partition(topic: string, partition: number): KeyedPartition | undefined {
    if (this.isHalted) return undefined;
    const slot = slotOf(topic, partition);
    let state = this.partitions.get(slot);
    if (!state) this.partitions.set(slot, (state = this.make(topic, partition)));
    return state;
  }

  /** Starts no handler anywhere until `reset` (the group is rebalancing, or the consumer stopping). */
  halt(): void {
    this.isHalted = true;
    for (const state of this.partitions.values()) state.close();
  }

  /** A new generation: every partition is handed out again from its committed offset, so all state goes. */
  reset(): void {
    for (const state of this.partitions.values()) state.revoke();
    // New maps, not cleared ones: a commit still on its way tells its generation by the map it saw.
    this.partitions = new Map();
    this.committed = new Map();
    this.isHalted = false;
  }

  /** Resolves once no handler of any partition runs. */
  async idle(): Promise<void> {
    await Promise.all([...this.partitions.values()].map((state) => state.idle()));
  }

  /** Each partition whose settled prefix moved since its last commit, with the offset to commit. */
  due(): TopicPartitionOffset[] {
    const due: TopicPartitionOffset[] = [];
    for (const [slot, state] of this.partitions) {
      const offset = state.committable;
      if (offset === undefined || state.revoked || this.committed.get(slot) === offset) continue;
      const [topic, partition] = splitSlot(slot);
      due.push({ topic, partition, offset });
    }
    return due;
  }

  /**
   * Commits what is due through `commit` and records it, unless the generation changed meanwhile
   * (the new one starts from the group's committed offsets). A commit that throws is retried next time.
   */
  async commitDue(commit: (offsets: TopicPartitionOffset[]) => Promise<void>): Promise<TopicPartitionOffset[]> {
    const offsets = this.due();
    if (offsets.length === 0) return offsets;
    const generation = this.partitions;
    await commit(offsets);
    if (generation === this.partitions) for (const { topic, partition, offset } of offsets) this.committed.set(slotOf(topic, partition), offset);
    return offsets;
  }
}

function slotOf(topic: string, partition: number): string {
  return `${partition}/${topic}`;
}

function splitSlot(slot: string): [string, number] {
  const at = slot.indexOf('/');
  return [slot.slice(at + 1), Number(slot.slice(0, at))];
}
