/**
 * The saga engine's clock when none is injected: the host's clock moved by its offset from the
 * state store's (Redis TIME), measured at start and again every few seconds. Due times and step
 * deadlines written by orchestrators on many hosts then agree with each other and with the claims,
 * which Redis times by its own TIME inside the script; a host whose clock is minutes off neither
 * fires deadlines early nor leaves them late.
 */
import type { StateStore } from '../state';
import { systemClock, type Clock } from './clock';

export class StoreClock implements Clock {
  private offset = 0;

  constructor(
    private readonly state: Pick<StateStore, 'time'>,
    private readonly base: Clock = systemClock,
  ) {}

  now = (): number => this.base.now() + this.offset;

  setTimeout = (callback: () => void, ms: number): { clear(): void } => this.base.setTimeout(callback, ms);

  /** Measures the offset: the store's time against the midpoint of the round trip that read it. */
  async sync(): Promise<void> {
    const sent = this.base.now();
    const time = await this.state.time();
    const received = this.base.now();
    this.offset = Math.round(time - (sent + received) / 2);
  }
}
