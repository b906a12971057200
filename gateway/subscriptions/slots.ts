/**
 * Caps on open subscriptions, after Apollo Router's `max_opened_subscriptions` (one count, refused
 * with SUBSCRIPTION_MAX_LIMIT), split the way a client holds them: per graphql-ws connection
 * (MAX_SUBSCRIPTIONS_PER_CONNECTION) and per caller across graphql-ws and SSE
 * (MAX_SUBSCRIPTIONS_PER_USER; the verified identity, else the client address). The per-caller
 * count is this process's: each gateway instance caps what it holds. A subscription that ends,
 * however it ends, frees its slot.
 */
import { GraphQLError } from 'graphql';
import type { SubscriptionMetrics } from './metrics';

export const SubscriptionLimitCode = {
  PER_CONNECTION: 'TOO_MANY_SUBSCRIPTIONS_PER_CONNECTION',
  PER_USER: 'TOO_MANY_SUBSCRIPTIONS_PER_USER',
} as const;
export type SubscriptionLimitCode = (typeof SubscriptionLimitCode)[keyof typeof SubscriptionLimitCode];

/** A subscription over a cap. Retriable: the same subscription passes once another one ends. */
export class SubscriptionLimitError extends GraphQLError {
  readonly retriable = true;

  constructor(
    readonly code: SubscriptionLimitCode,
    readonly limit: number,
  ) {
    const holder = code === SubscriptionLimitCode.PER_CONNECTION ? 'this connection' : 'this client';
    super(`${holder} already has ${limit} open subscriptions, the most allowed; end one first`, { extensions: { code, limit } });
    this.name = 'SubscriptionLimitError';
  }
}

export interface SubscriptionCaps {
  /** Open subscriptions on one graphql-ws connection; 0: no cap. */
  maxPerConnection: number;
  /** Open subscriptions of one caller (identity, else address) in this process, graphql-ws and SSE together; 0: no cap. */
  maxPerUser: number;
}

/** One open subscription's place in the counts; `release` frees it, and only the first call counts. */
export interface Slot {
  release(): void;
}

/** The subscriptions one graphql-ws connection holds. */
export interface ConnectionSlots {
  readonly open: number;
  /** A slot for one more subscription of `caller` on this connection; throws SubscriptionLimitError over a cap. */
  take(caller: string): Slot;
}

export class SubscriptionSlots {
  private readonly byCaller = new Map<string, number>();

  constructor(
    private readonly caps: SubscriptionCaps,
    private readonly metrics?: SubscriptionMetrics,
  ) {}

  /** A slot for one more subscription of `caller` (an SSE stream); throws SubscriptionLimitError over the per-caller cap. */
  take(caller: string): Slot {
    const held = this.byCaller.get(caller) ?? 0;
    if (this.caps.maxPerUser > 0 && held >= this.caps.maxPerUser) {
      this.metrics?.refused.inc({ reason: 'per_user' });
      throw new SubscriptionLimitError(SubscriptionLimitCode.PER_USER, this.caps.maxPerUser);
    }
    this.byCaller.set(caller, held + 1);
    this.metrics?.open.inc();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.metrics?.open.dec();
        const left = (this.byCaller.get(caller) ?? 1) - 1;
        // A caller with nothing open is forgotten, so the map holds only callers with open subscriptions.
        if (left > 0) this.byCaller.set(caller, left);
        else this.byCaller.delete(caller);
      },
    };
  }

  /** The counts of one new graphql-ws connection. */
  connection(): ConnectionSlots {
    let open = 0;
    const { maxPerConnection } = this.caps;
    return {
      get open() {
        return open;
      },
      take: (caller) => {
        if (maxPerConnection > 0 && open >= maxPerConnection) {
          this.metrics?.refused.inc({ reason: 'per_connection' });
          throw new SubscriptionLimitError(SubscriptionLimitCode.PER_CONNECTION, maxPerConnection);
        }
        const slot = this.take(caller);
        open += 1;
        let released = false;
        return {
          release: () => {
            if (released) return;
            released = true;
            open -= 1;
            slot.release();
          },
        };
      },
    };
  }

  /** Open subscriptions of `caller` in this process. */
  heldBy(caller: string): number {
    return this.byCaller.get(caller) ?? 0;
  }
}
