/**
 * A gateway's part in one published supergraph for many gateways: it campaigns for the composer
 * lock, publishes what it composes while it holds the lock, and follows what is published, which
 * it serves whether or not it composed it. While the store does not answer, the last supergraph
 * read keeps serving and the status says since when it has not been confirmed.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '@trellis/kit';
import { errorMessage, type PublishedSupergraph, type SupergraphPublication, type Watch } from '@trellis/kit/internal';

export interface PublicationStatus {
  /** This gateway's name in the lock and in what it publishes. */
  holder: string;
  /** Whether this gateway holds the composer lock now. */
  composer: boolean;
  /** The gateway that composed the supergraph served now. */
  publishedBy: string | null;
  /** When the store last answered a read of the published supergraph. */
  lastReadAt: string | null;
  /** false while the store does not answer: the last good supergraph keeps serving. */
  reachable: boolean;
}

export interface PublishedSupergraphOptions {
  publication: SupergraphPublication;
  logger: Logger;
  /** This gateway's name in the lock (default: host, pid and a random suffix). */
  holder?: string;
  onLeading: (leading: boolean) => void;
  onPublished: (supergraph: PublishedSupergraph) => void;
  now?: () => number;
}

export class PublishedSupergraphMember {
  private readonly state: PublicationStatus;
  private campaign?: Watch;
  private following?: Watch;
  private readonly now: () => number;

  constructor(private readonly options: PublishedSupergraphOptions) {
    this.now = options.now ?? Date.now;
    this.state = {
      holder: options.holder ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
      composer: false,
      publishedBy: null,
      lastReadAt: null,
      reachable: true,
    };
  }

  get holder(): string {
    return this.state.holder;
  }

  get isComposer(): boolean {
    return this.state.composer;
  }

  status(): PublicationStatus {
    return { ...this.state };
  }

  /** Seconds since the store last confirmed what is served, while it does not answer; 0 while it does. */
  staleSeconds(): number {
    if (this.state.reachable || !this.state.lastReadAt) return 0;
    return Math.max(0, (this.now() - Date.parse(this.state.lastReadAt)) / 1000);
  }

  async start(): Promise<void> {
    const { publication, logger } = this.options;
    this.following = await publication.follow({
      onPublished: (supergraph) => {
        this.state.publishedBy = supergraph.by;
        this.options.onPublished(supergraph);
      },
      onRead: () => {
        if (!this.state.reachable) logger.info('the published supergraph is readable again');
        this.state.reachable = true;
        this.state.lastReadAt = new Date(this.now()).toISOString();
      },
      onUnreachable: () => {
        if (this.state.reachable) logger.warn({ lastReadAt: this.state.lastReadAt }, 'the published supergraph cannot be read; serving the last good one');
        this.state.reachable = false;
      },
    });
    this.campaign = await publication.campaign(this.state.holder, (leading) => {
      this.state.composer = leading;
      this.options.onLeading(leading);
    });
  }

  /** Publishes a composition; false when this gateway no longer holds the lock (it is not published). */
  async publish(supergraph: Omit<PublishedSupergraph, 'by'>): Promise<boolean> {
    try {
      const published = await this.options.publication.publish({ ...supergraph, by: this.state.holder });
      if (!published) this.options.logger.warn({ hash: supergraph.hash }, 'composed, but this gateway no longer holds the composer lock: not published');
      return published;
    } catch (error) {
      this.options.logger.error({ hash: supergraph.hash, err: errorMessage(error) }, 'publishing the supergraph failed');
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.following?.stop();
    await this.campaign?.stop();
    this.state.composer = false;
  }
}
