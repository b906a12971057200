/**
 * The load generator: `concurrency` workers take the next planned order, send placeOrder through
 * the gateway as the order's user, subscribe to its sagaStatus on that user's graphql-ws client
 * and time the mutation-to-terminal-state interval as the subscriber sees it.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { postGraphQL } from '../../support/graphql';
import type { PlannedOrder } from './orders';

const PLACE_ORDER = `mutation($items: [OrderItemInput!]!, $method: String!) {
  placeOrder(input: { items: $items, paymentMethod: $method }) { sagaId state }
}`;
const SAGA_STATUS = `subscription($id: ID!) { sagaStatus(id: $id) { id state } }`;
const TERMINAL = new Set(['COMPLETED', 'COMPENSATED', 'FAILED']);

export interface SagaOutcome {
  /** COMPLETED, COMPENSATED or FAILED. */
  state: string;
  /** From sending the mutation to receiving the terminal state on the subscription. */
  latencyMs: number;
}

export interface LoadResult {
  outcomes: SagaOutcome[];
  /** One message per saga that did not reach a terminal state (mutation refused, stream error, timeout). */
  errors: string[];
  /** From the first mutation sent to the last terminal state received. */
  wallMs: number;
}

export interface LoadOptions {
  gatewayUrl: string;
  orders: PlannedOrder[];
  sagaTimeoutMs: number;
}

/** A signed-in user of the bench: their token and their graphql-ws client (opened on first use, kept open). */
export interface BenchUser {
  token: string;
  client: Client;
}

class SagaError extends Error {}

async function placeOrder(options: LoadOptions, order: PlannedOrder, token: string): Promise<string> {
  const { status, body } = await postGraphQL<{ placeOrder: { sagaId: string } }>(options.gatewayUrl, PLACE_ORDER, {
    variables: { items: order.items, method: order.paymentMethod },
    headers: { authorization: `Bearer ${token}` },
    timeoutMs: options.sagaTimeoutMs,
  });
  const sagaId = body.data?.placeOrder?.sagaId;
  if (body.errors?.length || !sagaId) throw new SagaError(`placeOrder ${status}: ${body.errors?.[0]?.extensions?.code ?? ''} ${body.errors?.[0]?.message ?? 'no sagaId'}`);
  return sagaId;
}

/** The first terminal state the subscription delivers. */
async function terminalState(client: Client, sagaId: string, timeoutMs: number): Promise<string> {
  const events = client.iterate<{ sagaStatus: { state: string } }>({ query: SAGA_STATUS, variables: { id: sagaId } });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SagaError(`no terminal state within ${timeoutMs} ms`)), timeoutMs);
  });
  const watch = async () => {
    for await (const result of events) {
      if (result.errors?.length) throw new SagaError(`sagaStatus: ${result.errors[0].message}`);
      const state = result.data?.sagaStatus?.state;
      if (state && TERMINAL.has(state)) return state;
    }
    throw new SagaError('sagaStatus completed before a terminal state');
  };
  try {
    return await Promise.race([watch(), timeout]);
  } finally {
    clearTimeout(timer);
    await events.return?.();
  }
}

async function runOne(user: BenchUser, options: LoadOptions, order: PlannedOrder): Promise<SagaOutcome> {
  const sent = performance.now();
  const sagaId = await placeOrder(options, order, user.token);
  const state = await terminalState(user.client, sagaId, options.sagaTimeoutMs);
  return { state, latencyMs: performance.now() - sent };
}

/** One graphql-ws client per user, connected on its first subscription and kept open for the whole run. */
export function benchUsers(gatewayUrl: string, tokens: string[]): BenchUser[] {
  return tokens.map((token) => ({
    token,
    client: createClient({
      url: gatewayUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { headers: { authorization: `Bearer ${token}` } },
      lazy: true,
      // Kept open between this user's sagas, as an app keeps its socket.
      lazyCloseTimeout: 60_000,
      keepAlive: 10_000,
      retryAttempts: 0,
    }),
  }));
}

function describe(error: unknown): string {
  if (error instanceof SagaError) return error.message;
  if (error instanceof Error) return `stream: ${error.message}`;
  if (Array.isArray(error)) return `stream: ${error.map((item: { message?: string }) => item.message).join('; ')}`;
  const closed = error as { code?: number; reason?: string };
  return `stream closed: ${closed.code ?? '?'} ${closed.reason ?? ''}`.trim();
}

/** Runs every planned order with `concurrency` workers, each order as its own user. */
export async function runSagas(users: BenchUser[], concurrency: number, options: LoadOptions): Promise<LoadResult> {
  const outcomes: SagaOutcome[] = [];
  const errors: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < options.orders.length) {
        const order = options.orders[next++];
        try {
          outcomes.push(await runOne(users[order.user], options, order));
        } catch (error) {
          errors.push(describe(error));
        }
      }
    }),
  );
  return { outcomes, errors, wallMs: performance.now() - started };
}
