/** A saga `Clock` moved by hand: `advance` runs the timers that fell due; `delays` lists what each timer was set for. */
import type { Clock } from '../saga';

export class ManualClock implements Clock {
  current: number;
  /** The delay of every timer set, in order. */
  readonly delays: number[] = [];
  private timers: Array<{ at: number; callback: () => void; cleared: boolean }> = [];

  constructor(start = 1_000_000) {
    this.current = start;
  }

  now = () => this.current;

  setTimeout = (callback: () => void, ms: number) => {
    const timer = { at: this.current + ms, callback, cleared: false };
    this.delays.push(ms);
    this.timers.push(timer);
    return { clear: () => void (timer.cleared = true) };
  };

  /** Moves time on and runs the timers that fell due. */
  advance(ms: number): void {
    this.current += ms;
    const due = this.timers.filter((t) => !t.cleared && t.at <= this.current);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const timer of due) timer.callback();
  }

  pending(): number {
    return this.timers.filter((t) => !t.cleared).length;
  }
}
