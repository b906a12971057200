/** The newest `capacity` entries of a history, oldest dropped first: what keeps the console's memory bounded. */
export class BoundedLog<T> {
  private readonly entries: T[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`a bounded log needs a capacity of at least 1, not ${capacity}`);
  }

  add(entry: T): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Newest first. */
  newestFirst(): T[] {
    return [...this.entries].reverse();
  }

  get size(): number {
    return this.entries.length;
  }
}
