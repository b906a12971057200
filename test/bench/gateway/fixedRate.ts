/**
 * Open-loop load at a constant arrival rate: call i is due at start + i / rate whether or not the
 * earlier ones are answered, and its latency counts from when it was due, so a gateway that falls
 * behind shows it in p99 instead of silently getting fewer calls (no coordinated omission).
 * autocannon's `overallRate` does not do this (see test/bench/README.md), hence undici here.
 */
import { Pool } from 'undici';
import { judge } from './answers';
import type { Call, DenialStyle, Workload } from './operations';

export interface FixedRateOptions {
  url: string;
  workload: Workload;
  authorization: (call: Call) => string;
  denial: DenialStyle;
  /** Calls per second. */
  rate: number;
  durationSeconds: number;
  /** Most connections the generator opens; calls beyond that wait in its queue (and count that wait). */
  maxConnections: number;
  /** Stops sending before `durationSeconds` are over (load beside another measurement that ends first). */
  signal?: AbortSignal;
  /** How long after the last call is sent its answers are waited for; 5 s by default. */
  drainMs?: number;
}

export interface FixedRateResult {
  rate: number;
  /** Answers per second over the run, up to the last answer. */
  achievedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  responses: number;
  partialAsExpected: number;
  failures: number;
  firstWrong?: string;
  /** Calls that were sent but not answered by the end (the generator waits at most a few seconds more). */
  unanswered: number;
  /** p99 of how late the generator itself sent calls after they were due (its own event loop busy): part of every latency. */
  sendLagP99Ms: number;
}

const TICK_MS = 2;
const DRAIN_MS = 5000;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function runFixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const target = new URL(options.url);
  const pool = new Pool(target.origin, { connections: options.maxConnections, pipelining: 1, keepAliveTimeout: 30_000 });
  const { calls } = options.workload;
  const total = Math.round(options.rate * options.durationSeconds);
  const latencies = new Float64Array(total);
  const sendLags = new Float64Array(total);
  let answered = 0;
  let partial = 0;
  let wrong = 0;
  let firstWrong: string | undefined;
  let lastAnswerAt = 0;
  /** Set when the drain ends: calls still out then are unanswered, not failures (destroying the pool rejects them). */
  let closed = false;
  const send = async (index: number, dueAt: number) => {
    const call = calls[index % calls.length];
    try {
      const response = await pool.request({ path: target.pathname, method: 'POST', headers: { authorization: options.authorization(call), 'content-type': 'application/json' }, body: call.body });
      const body = await response.body.text();
      if (closed) return;
      const verdict = judge(call, options.denial, response.statusCode, body);
      if (verdict === 'partial') partial++;
      if (verdict === 'wrong') {
        wrong++;
        firstWrong ??= `${call.operation.operationName} as ${call.user.id}: HTTP ${response.statusCode} ${body.slice(0, 200)}`;
      }
    } catch (error) {
      if (closed) return;
      wrong++;
      firstWrong ??= `${call.operation.operationName}: ${(error as Error).message}`;
    }
    lastAnswerAt = performance.now();
    latencies[answered++] = lastAnswerAt - dueAt;
  };
  const start = performance.now();
  const inFlight: Array<Promise<void>> = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      // Every call due by now goes out, late ones with their own due time (the delay is latency).
      while (sent < total && start + (sent * 1000) / options.rate <= now) {
        const dueAt = start + (sent * 1000) / options.rate;
        sendLags[sent] = now - dueAt;
        inFlight.push(send(sent, dueAt));
        sent++;
      }
      if (sent >= total || options.signal?.aborted) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(inFlight), new Promise((resolve) => (drainTimer = setTimeout(resolve, options.drainMs ?? DRAIN_MS)))]);
  clearTimeout(drainTimer);
  closed = true;
  const done = latencies.slice(0, answered).sort();
  await pool.destroy();
  return {
    rate: options.rate,
    achievedPerSecond: (answered * 1000) / Math.max(1, lastAnswerAt - start),
    p50Ms: percentile(done, 50),
    p99Ms: percentile(done, 99),
    p999Ms: percentile(done, 99.9),
    responses: answered,
    partialAsExpected: partial,
    failures: wrong,
    firstWrong,
    unanswered: sent - answered,
    sendLagP99Ms: percentile(sendLags.slice(0, sent).sort(), 99),
  };
}

/** A target holds a rate when it answers all of it, correctly, keeping up (90% of the rate over the run) with p99 under half a second. */
export function holds(result: FixedRateResult): boolean {
  return result.unanswered === 0 && result.failures === 0 && result.achievedPerSecond >= 0.9 * result.rate && result.p99Ms < 500;
}
