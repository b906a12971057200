/**
 * Closed-loop load with autocannon: a fixed number of keep-alive connections, each sending its next
 * call as soon as the last answer is in, for a fixed time; a warm-up run, then the measured one.
 * Every call of the workload goes in turn (its own caller's token, its own variables), and every
 * answer is judged against what that call must get back.
 */
import autocannon from 'autocannon';
import { judge } from './answers';
import type { Call, DenialStyle, Workload } from './operations';

export interface LoadOptions {
  url: string;
  workload: Workload;
  /** The `Authorization` header of each user's calls. */
  authorization: (call: Call) => string;
  /** How the target marks a refused field (see operations.ts). */
  denial: DenialStyle;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms?: number;
  /** Responses counted in the measured run. */
  responses: number;
  /** Answers with the expected data and the expected errors on a field the caller's scopes do not reach. */
  partialAsExpected: number;
  /** Non-2xx answers, answers with other data or unexpected errors, connection errors and timeouts. */
  failures: number;
  /** The first wrong answer, to say what went wrong. */
  firstWrong?: string;
}

interface Tally {
  partial: number;
  wrong: number;
  firstWrong?: string;
}

interface CallContext {
  call?: Call;
}

function run(options: LoadOptions, durationSeconds: number): Promise<{ result: autocannon.Result; tally: Tally }> {
  const { calls } = options.workload;
  const tally: Tally = { partial: 0, wrong: 0 };
  let next = 0;
  // One request template whose setupRequest picks the next call; with pipelining 1 a connection's
  // context still holds that call when its answer arrives.
  const request = {
    setupRequest: (template: autocannon.Request, context: CallContext) => {
      const call = calls[next++ % calls.length];
      context.call = call;
      return { ...template, method: 'POST', body: call.body, headers: { authorization: options.authorization(call), 'content-type': 'application/json' } };
    },
    onResponse: (status: number, body: string, context: CallContext) => {
      const verdict = judge(context.call!, options.denial, status, body);
      if (verdict === 'partial') tally.partial++;
      else if (verdict === 'wrong') {
        tally.wrong++;
        tally.firstWrong ??= `${context.call!.operation.operationName} ${JSON.stringify(context.call!.variables)} as ${context.call!.user.id}: HTTP ${status} ${body.slice(0, 200)}`;
      }
    },
  };
  return new Promise((resolve, reject) => {
    autocannon(
      { url: options.url, method: 'POST', connections: options.connections, pipelining: 1, duration: durationSeconds, requests: [request as unknown as autocannon.Request] },
      (error, result) => (error ? reject(error) : resolve({ result, tally })),
    );
  });
}

/** Unmeasured load, so JIT, caches and keep-alive pools are warm before the measured run. */
export async function warmUp(options: LoadOptions): Promise<void> {
  await run(options, options.warmupSeconds);
}

export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const { result, tally } = await run(options, options.durationSeconds);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    responses: result.requests.total,
    partialAsExpected: tally.partial,
    // Non-2xx answers are judged wrong too, so they are in tally.wrong already.
    failures: tally.wrong + result.errors + result.timeouts,
    firstWrong: tally.firstWrong,
  };
}
