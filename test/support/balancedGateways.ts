/**
 * What a load balancer in front of several gateways does, on the client side, for tests that kill a
 * gateway: round robin over the gateways it believes up; a request that gets no HTTP answer at all
 * (connection refused or reset, as a SIGKILLed gateway gives, or no answer within the timeout)
 * takes that gateway out for `ejectMs` and goes once to each other gateway, as Envoy's
 * `retry_on: connect-failure,reset` or nginx's `proxy_next_upstream error` do. Queries are safe to
 * send again, and placeOrder carries an idempotency key, so a resent one gets the first one's saga.
 * Every request is counted: answered (a GraphQL answer, data or errors that each carry an
 * `extensions.code`, partial answers included) or not, and how many needed another gateway.
 */

export interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export interface BalancedAnswer<T> {
  /** A GraphQL answer whose every error carries a code; false for no answer, a non-GraphQL body, or an untyped error. */
  answered: boolean;
  status?: number;
  body?: GraphQLBody<T>;
  /** Gateways tried, 1 unless the first gave no answer. */
  attempts: number;
  /** Why it is not answered. */
  failure?: string;
}

export interface BalancerTally {
  requests: number;
  answered: number;
  unanswered: number;
  /** Answered requests that needed another gateway after the first gave no answer. */
  resent: number;
  /** Answered requests without errors. */
  clean: number;
  /** Answered requests with errors, by each first error's code. */
  errorCodes: Record<string, number>;
  /** The first unanswered requests, with why. */
  failures: string[];
}

export interface BalancedGatewaysOptions {
  /** How long a gateway that gave no answer is left out (default 3 s). */
  ejectMs?: number;
  /** How long one attempt may take before it counts as no answer (default 15 s). */
  timeoutMs?: number;
}

export class BalancedGateways {
  readonly tally: BalancerTally = { requests: 0, answered: 0, unanswered: 0, resent: 0, clean: 0, errorCodes: {}, failures: [] };
  private readonly ejectedUntil: number[];
  private next = 0;

  constructor(
    readonly urls: string[],
    private readonly options: BalancedGatewaysOptions = {},
  ) {
    this.ejectedUntil = urls.map(() => 0);
  }

  async post<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<BalancedAnswer<T>> {
    this.tally.requests += 1;
    const order = this.order();
    let failure = '';
    for (const [attempt, index] of order.entries()) {
      let response: Response;
      try {
        response = await fetch(this.urls[index], {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
        });
      } catch (error) {
        // No HTTP answer: the balancer leaves this gateway out for a while and tries the next.
        this.ejectedUntil[index] = Date.now() + (this.options.ejectMs ?? 3000);
        failure += `${this.urls[index]}: ${describe(error)}; `;
        continue;
      }
      return this.answer<T>(response, attempt + 1);
    }
    return this.count({ answered: false, attempts: order.length, failure: `no gateway answered: ${failure}` });
  }

  /** Every gateway, the next in turn first, those left out after the others. */
  private order(): number[] {
    const start = this.next++ % this.urls.length;
    const turn = this.urls.map((_, i) => (start + i) % this.urls.length);
    const now = Date.now();
    return [...turn.filter((i) => this.ejectedUntil[i] <= now), ...turn.filter((i) => this.ejectedUntil[i] > now)];
  }

  private async answer<T>(response: Response, attempts: number): Promise<BalancedAnswer<T>> {
    const text = await response.text().catch((error: unknown) => `(body lost: ${describe(error)})`);
    let body: GraphQLBody<T>;
    try {
      body = JSON.parse(text) as GraphQLBody<T>;
    } catch {
      return this.count({ answered: false, status: response.status, attempts, failure: `HTTP ${response.status}, not GraphQL: ${text.slice(0, 200)}` });
    }
    const errors = body.errors ?? [];
    const graphQL = 'data' in body || errors.length > 0;
    const untyped = errors.find((error) => typeof error.extensions?.code !== 'string');
    if (!graphQL || untyped) {
      return this.count({ answered: false, status: response.status, body, attempts, failure: `HTTP ${response.status}: ${untyped ? `error without a code: ${untyped.message}` : text.slice(0, 200)}` });
    }
    return this.count({ answered: true, status: response.status, body, attempts });
  }

  private count<T>(answer: BalancedAnswer<T>): BalancedAnswer<T> {
    const { tally } = this;
    if (!answer.answered) {
      tally.unanswered += 1;
      if (tally.failures.length < 20) tally.failures.push(answer.failure ?? '?');
      return answer;
    }
    tally.answered += 1;
    if (answer.attempts > 1) tally.resent += 1;
    const code = answer.body?.errors?.[0]?.extensions?.code;
    if (code) tally.errorCodes[code] = (tally.errorCodes[code] ?? 0) + 1;
    else tally.clean += 1;
    return answer;
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
