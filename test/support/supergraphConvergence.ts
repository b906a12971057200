/**
 * Watches what each gateway serves (`/admin/supergraph` on its admin port, polled every
 * `intervalMs`) and when each published supergraph reached every live gateway: for a hash, the
 * time from its `composedAt` (the composer's clock, the same machine's) until the last live gateway
 * served it or a newer one. A gateway that is killed is dropped, and its polls stop counting.
 */

export interface ServedSupergraph {
  hash: string;
  composedAt: string;
  /** When this watcher first saw the gateway serve it. */
  seenAt: number;
  /** Whether it holds the composer lock at that poll. */
  composer: boolean;
}

interface AdminStatus {
  hash: string | null;
  composedAt: string | null;
  publication?: { composer: boolean };
}

export class SupergraphWatch {
  /** Per admin URL, every supergraph it served, in order. */
  readonly served = new Map<string, ServedSupergraph[]>();
  private readonly live: Set<string>;
  private readonly composerNow = new Map<string, boolean>();
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    readonly adminUrls: string[],
    private readonly intervalMs = 50,
  ) {
    this.live = new Set(adminUrls);
    for (const url of adminUrls) this.served.set(url, []);
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A gateway killed on purpose: no longer polled, no longer waited for. */
  drop(adminUrl: string): void {
    this.live.delete(adminUrl);
  }

  /** The admin URLs still watched. */
  liveGateways(): string[] {
    return [...this.live];
  }

  /** What `adminUrl` served last, if anything. */
  current(adminUrl: string): ServedSupergraph | undefined {
    return this.served.get(adminUrl)?.at(-1);
  }

  /** Whether `adminUrl` held the composer lock at its last poll. */
  isComposer(adminUrl: string): boolean {
    return this.composerNow.get(adminUrl) ?? false;
  }

  /**
   * Milliseconds from `hash`'s composedAt until every live gateway served it or a later supergraph;
   * undefined while one has not (or `hash` was never seen).
   */
  convergenceMs(hash: string): number | undefined {
    const first = [...this.served.values()].flat().find((served) => served.hash === hash);
    if (!first) return undefined;
    let last = 0;
    for (const url of this.live) {
      const history = this.served.get(url)!;
      const index = history.findIndex((served) => served.hash === hash || Date.parse(served.composedAt) > Date.parse(first.composedAt));
      if (index < 0) return undefined;
      last = Math.max(last, history[index].seenAt);
    }
    return last - Date.parse(first.composedAt);
  }

  /** Every hash some gateway served after `since` (ms since the epoch), in the order composed. */
  hashesComposedAfter(since: number): string[] {
    const hashes = new Map<string, number>();
    for (const served of [...this.served.values()].flat()) if (Date.parse(served.composedAt) >= since) hashes.set(served.hash, Date.parse(served.composedAt));
    return [...hashes].sort(([, a], [, b]) => a - b).map(([hash]) => hash);
  }

  private async poll(): Promise<void> {
    // One round at a time: a slow answer must not pile up polls on a loaded machine.
    if (this.polling) return;
    this.polling = true;
    try {
      await Promise.all([...this.live].map((url) => this.read(url)));
    } finally {
      this.polling = false;
    }
  }

  private async read(url: string): Promise<void> {
    let status: AdminStatus;
    try {
      status = (await (await fetch(`${url}/admin/supergraph`, { signal: AbortSignal.timeout(2000) })).json()) as AdminStatus;
    } catch {
      return; // not answering this round (being killed, or busy): the next round asks again
    }
    const seenAt = Date.now();
    this.composerNow.set(url, status.publication?.composer ?? false);
    const history = this.served.get(url)!;
    if (status.hash && status.composedAt && history.at(-1)?.hash !== status.hash) {
      history.push({ hash: status.hash, composedAt: status.composedAt, seenAt, composer: status.publication?.composer ?? false });
    }
  }
}
