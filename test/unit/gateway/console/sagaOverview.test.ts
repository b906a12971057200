/**
 * The console's sagas source: asks the sagas subgraph's client with the operator token, shares one
 * answer among every console for `freshMs`, and turns what cannot be had into one line, at once.
 */
import { SagaOverviewSource } from '../../../../gateway/console';
import { SubgraphUnavailableError, type SubgraphClient } from '../../../../gateway/datasource';
import type { SubgraphCall } from '../../../../gateway/datasource/subgraphClient';

const OVERVIEW = {
  inFlight: [{ id: 'a', definition: 'placeOrder', state: 'RUNNING', createdAt: 't0', updatedAt: 't1', steps: [{ name: 'reserveStock', state: 'RUNNING', attempts: 1, error: null }] }],
  finished: [{ id: 'b', definition: 'placeOrder', state: 'COMPENSATED', createdAt: 't0', updatedAt: 't2', steps: [{ name: 'reserveStock', state: 'FAILED', attempts: 1, error: 'declined' }] }],
  inFlightTotal: 7,
  finishedKept: 3,
  parked: [{ sagaId: 'p', reason: 'unknown-version', definition: 'placeOrder', version: 'abc123', versionLabel: null, parkedAt: '2026-12-07T01:00:00.000Z', heldReplies: 2 }],
  parkedTotal: 1,
};

/** A client that records its calls and answers what `answer` gives. */
function recordingClient(answer: (call: SubgraphCall) => Promise<string>) {
  const calls: SubgraphCall[] = [];
  const client = { send: (call: SubgraphCall) => (calls.push(call), answer(call)) } as unknown as SubgraphClient;
  return { client, calls };
}

describe('SagaOverviewSource', () => {
  let now = 0;
  beforeEach(() => (now = 1_000_000));

  it('asks the sagas subgraph with the operator token and shows its overview, steps without a null error', async () => {
    const { client, calls } = recordingClient(async () => JSON.stringify({ data: { sagaOverview: OVERVIEW } }));
    const names: string[] = [];
    const source = new SagaOverviewSource({ client: (name) => (names.push(name), client), operatorToken: 'h.p.s', now: () => now });
    expect(await source.overview()).toEqual({
      ...OVERVIEW,
      inFlight: [{ ...OVERVIEW.inFlight[0], steps: [{ name: 'reserveStock', state: 'RUNNING', attempts: 1 }] }],
      // A parked saga as the kit types it: no null label, its time in ms.
      parked: [{ sagaId: 'p', reason: 'unknown-version', definition: 'placeOrder', version: 'abc123', parkedAt: Date.parse('2026-12-07T01:00:00.000Z'), heldReplies: 2 }],
    });
    expect(names).toEqual(['sagas']);
    expect(calls).toHaveLength(1);
    expect(calls[0].headers).toEqual({ authorization: 'Bearer h.p.s' });
    expect(JSON.parse(calls[0].body).query).toContain('sagaOverview');
  });

  it('shares one answer among every console for freshMs, and one call among concurrent asks', async () => {
    const { client, calls } = recordingClient(async () => JSON.stringify({ data: { sagaOverview: OVERVIEW } }));
    const source = new SagaOverviewSource({ client: () => client, operatorToken: 'h.p.s', freshMs: 1000, now: () => now });
    await Promise.all(Array.from({ length: 10 }, () => source.overview()));
    expect(calls).toHaveLength(1);
    now += 999;
    await source.overview();
    expect(calls).toHaveLength(1);
    now += 1;
    await source.overview();
    expect(calls).toHaveLength(2);
  });

  it('says why there are no sagas, without asking, when it has no token or there is no sagas subgraph', async () => {
    const { client, calls } = recordingClient(async () => '{}');
    expect(await new SagaOverviewSource({ client: () => client }).overview()).toEqual({ error: expect.stringContaining('CONSOLE_OPERATOR_TOKEN') });
    expect(await new SagaOverviewSource({ client: () => undefined, operatorToken: 'h.p.s' }).overview()).toEqual({
      error: 'sagas unavailable: the served supergraph has no sagas subgraph',
    });
    expect(calls).toHaveLength(0);
  });

  it('shows a refusal with its code, and a subgraph that cannot be reached', async () => {
    const refusing = recordingClient(async () => JSON.stringify({ data: null, errors: [{ message: 'Unauthorized field', extensions: { code: 'FORBIDDEN' } }] }));
    expect(await new SagaOverviewSource({ client: () => refusing.client, operatorToken: 'h.p.s' }).overview()).toEqual({
      error: 'sagas unavailable: sagas answered FORBIDDEN: Unauthorized field',
    });
    const down = recordingClient(async () => {
      throw new SubgraphUnavailableError('sagas', 'breaker_open');
    });
    expect(await new SagaOverviewSource({ client: () => down.client, operatorToken: 'h.p.s' }).overview()).toEqual({ error: expect.stringMatching(/^sagas unavailable: .*sagas/) });
  });
});
