/**
 * The console's sagas, asked of the sagas subgraph (`Query.sagaOverview`, operators only) through
 * the gateway's own client for it (its breaker, balancer and deadline), so the gateway never reads
 * the saga engine's Redis layout. One answer serves every open console for `freshMs`, so ten tabs
 * polling once a second ask the subgraph once a second. What cannot be had (no sagas subgraph, an
 * open breaker, no operator token, a refusal) is said in one line, at once, never an error page.
 */
import { errorMessage } from '@trellis/kit/internal';
import type { ParkedSaga, SagaOverview } from '@trellis/kit/saga';
import type { SubgraphClient } from '../datasource';

/** What the console shows for sagas: the overview, or why there is none. */
export type SagasView = SagaOverview | { error: string };

export interface SagaOverviewSourceOptions {
  /** The gateway's client of a subgraph, once it made one (when a supergraph naming it is served). */
  client: (name: string) => SubgraphClient | undefined;
  /** A JWT with the `trellis:operator` scope (CONSOLE_OPERATOR_TOKEN); without it nothing is asked. */
  operatorToken?: string;
  /** The subgraph that owns `sagaOverview`. */
  subgraph?: string;
  /** An answer is reused this long. */
  freshMs?: number;
  now?: () => number;
}

const OVERVIEW_QUERY = `query ConsoleSagaOverview {
  sagaOverview {
    inFlight { ...ConsoleSaga } finished { ...ConsoleSaga } inFlightTotal finishedKept
    parked { sagaId reason definition version versionLabel parkedAt heldReplies } parkedTotal
  }
}
fragment ConsoleSaga on SagaSummary { id definition state createdAt updatedAt steps { name state attempts error } }`;
const BODY = JSON.stringify({ query: OVERVIEW_QUERY, operationName: 'ConsoleSagaOverview' });

interface Answer {
  data?: { sagaOverview?: WireOverview | null } | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export class SagaOverviewSource {
  private last?: { at: number; view: SagasView };
  private pending?: Promise<SagasView>;

  constructor(private readonly options: SagaOverviewSourceOptions) {}

  async overview(): Promise<SagasView> {
    const now = (this.options.now ?? Date.now)();
    if (this.last && now - this.last.at < (this.options.freshMs ?? 1000)) return this.last.view;
    this.pending ??= this.ask().then((view) => {
      this.last = { at: (this.options.now ?? Date.now)(), view };
      this.pending = undefined;
      return view;
    });
    return this.pending;
  }

  private async ask(): Promise<SagasView> {
    const { operatorToken, subgraph = 'sagas' } = this.options;
    if (!operatorToken) return { error: 'no operator token (CONSOLE_OPERATOR_TOKEN): the console asks the sagas subgraph with one' };
    const client = this.options.client(subgraph);
    if (!client) return { error: `sagas unavailable: the served supergraph has no ${subgraph} subgraph` };
    try {
      const text = await client.send({ body: BODY, headers: { authorization: `Bearer ${operatorToken}` }, retryable: true });
      const answer = JSON.parse(text) as Answer;
      const overview = answer.data?.sagaOverview;
      if (overview && !answer.errors?.length) return withoutNulls(overview);
      const first = answer.errors?.[0];
      return { error: `sagas unavailable: ${subgraph} answered ${first ? `${first.extensions?.code ?? 'an error'}: ${first.message}` : 'no overview'}` };
    } catch (error) {
      // An open breaker or no healthy instance: refused at once by the client, said here.
      return { error: `sagas unavailable: ${errorMessage(error)}` };
    }
  }
}

/** The overview as GraphQL sends it: absent fields as null, a parked saga's time as an ISO string. */
type WireOverview = Omit<SagaOverview, 'parked'> & { parked: Array<Omit<ParkedSaga, 'parkedAt'> & { parkedAt: string }> };

/** Back to the kit's type: a step with no error and a parked saga with no version leave the field out; times in ms. */
function withoutNulls(overview: WireOverview): SagaOverview {
  const clean = (sagas: SagaOverview['inFlight']) =>
    sagas.map((saga) => ({ ...saga, steps: saga.steps.map(({ error, ...step }) => (error == null ? step : { ...step, error })) }));
  const parked = overview.parked.map(
    ({ parkedAt, ...rest }) => ({ ...Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== null)), parkedAt: Date.parse(parkedAt) }) as ParkedSaga,
  );
  return { ...overview, inFlight: clean(overview.inFlight), finished: clean(overview.finished), parked };
}
