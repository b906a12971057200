/**
 * A retry budget: retries may add at most `ratio` of the recent request volume (plus a small
 * floor so a quiet subgraph can still retry), so retries never multiply load in an outage.
 */
export interface RetryBudgetSettings {
  ratio: number;
  minRetriesPerWindow: number;
  windowMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetSettings = { ratio: 0.1, minRetriesPerWindow: 3, windowMs: 10_000 };

const BUCKETS = 10;

export class RetryBudget {
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  private bucketStart: number | undefined;
  private bucket = 0;

  constructor(
    private readonly settings: RetryBudgetSettings = DEFAULT_RETRY_BUDGET,
    private readonly now: () => number = Date.now,
  ) {}

  recordRequest(): void {
    this.rotate();
    this.requests[this.bucket] += 1;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryRetry(): boolean {
    this.rotate();
    const requests = sum(this.requests);
    const retries = sum(this.retries);
    const allowed = Math.max(this.settings.minRetriesPerWindow, Math.floor(requests * this.settings.ratio));
    if (retries >= allowed) return false;
    this.retries[this.bucket] += 1;
    return true;
  }

  private rotate(): void {
    const width = this.settings.windowMs / BUCKETS;
    const now = this.now();
    this.bucketStart ??= now;
    const steps = Math.min(BUCKETS, Math.floor((now - this.bucketStart) / width));
    for (let i = 0; i < steps; i++) {
      this.bucket = (this.bucket + 1) % BUCKETS;
      this.requests[this.bucket] = 0;
      this.retries[this.bucket] = 0;
    }
    this.bucketStart += steps * width;
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
