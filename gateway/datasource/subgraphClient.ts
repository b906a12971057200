/**
 * Everything between the gateway and one subgraph: balancing over its healthy instances (every
 * registered one when none is healthy: `InstanceDirectory.routableOf`), outlier ejection, a breaker,
 * one deadline per call that aborts the HTTP request, at most one retry of a query on another
 * instance within the retry budget, and no retry of mutations.
 */
import type CircuitBreaker from 'opossum';
import type { Logger } from '@trellis/kit';
import { createBreaker } from '@trellis/kit/internal';
import { type BreakerSettings } from '@trellis/kit';
import type { InstanceDirectory } from '../supergraph/instances';
import type { ServiceInstance } from '@trellis/kit';
import type { GatewayMetrics } from '../observability/metrics';
import { isRetriable, SubgraphUnavailableError } from './errors';
import type { HttpClient } from './httpClient';
import { LoadBalancer } from './loadBalancer';
import { OutlierDetector, type OutlierSettings } from './outlierDetector';
import { RetryBudget, type RetryBudgetSettings } from './retryBudget';
import { FETCH_ATTRIBUTES, inAttemptSpan } from './fetchSpans';
import { observeWithTrace } from '@trellis/kit/internal';

export interface SubgraphClientOptions {
  name: string;
  instances: InstanceDirectory;
  http: HttpClient;
  breaker: BreakerSettings;
  outliers: OutlierSettings;
  retryBudget: RetryBudgetSettings;
  metrics?: GatewayMetrics;
  logger: Logger;
  now?: () => number;
  /** A client span per attempt, carrying its trace context to the subgraph (only when spans are exported). */
  tracing?: boolean;
}

export interface SubgraphCall {
  body: string;
  headers: Record<string, string>;
  /** Queries may be retried once on another instance; mutations never. */
  retryable: boolean;
}

/** A subgraph's answer: its text, and its `Cache-Control` when it sent one. */
export interface SubgraphAnswer {
  text: string;
  cacheControl?: string;
}

export class SubgraphClient {
  readonly breaker: CircuitBreaker<[SubgraphCall], SubgraphAnswer>;
  private readonly outliers: OutlierDetector;
  private readonly balancer: LoadBalancer;
  private readonly budget: RetryBudget;
  /** Whether the last fetch found no healthy instance and went to the registered ones (logged once per episode). */
  private panicking = false;

  constructor(private readonly options: SubgraphClientOptions) {
    this.outliers = new OutlierDetector(options.outliers, options.now);
    this.balancer = new LoadBalancer(this.outliers);
    this.budget = new RetryBudget(options.retryBudget, options.now);
    this.breaker = createBreaker((call: SubgraphCall) => this.attempt(call), {
      name: options.name,
      kind: 'subgraph',
      settings: options.breaker,
      registry: options.metrics?.registry,
      logger: options.logger,
      callerEnforcesTimeout: true,
    });
    options.instances.on('change', () => this.outliers.retain(this.instanceIds()));
  }

  /** Resolves with the subgraph's response text, or rejects with a SubgraphUnavailableError. */
  async send(call: SubgraphCall): Promise<string> {
    return (await this.answer(call)).text;
  }

  /** The subgraph's answer with its `Cache-Control`, or rejects with a SubgraphUnavailableError. */
  async answer(call: SubgraphCall): Promise<SubgraphAnswer> {
    try {
      return await this.breaker.fire(call);
    } catch (error) {
      if (error instanceof SubgraphUnavailableError) throw error;
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        this.options.metrics?.subgraphFetchErrors.inc({ subgraph: this.options.name, reason: 'breaker_open' });
        throw new SubgraphUnavailableError(this.options.name, 'breaker_open');
      }
      throw new SubgraphUnavailableError(this.options.name, 'connection_failed', (error as Error).message);
    }
  }

  /** Ids of the instances ejected as outliers right now. */
  ejectedInstances(): string[] {
    return this.outliers.ejected(this.options.instances.registeredOf(this.options.name).map((instance) => instance.id));
  }

  private instanceIds(): string[] {
    return this.options.instances.routableOf(this.options.name).map((instance) => instance.id);
  }

  /** The instances a fetch may go to; counts and logs a fetch sent while none is healthy. */
  private routable(): ServiceInstance[] {
    const { name, metrics, logger } = this.options;
    const instances = this.options.instances.routableOf(name);
    const panic = instances.length > 0 && !instances[0].healthy;
    if (panic) {
      metrics?.subgraphPanicFetches.inc({ subgraph: name });
      if (!this.panicking) logger.warn({ subgraph: name, instances: instances.length }, `no instance of subgraph ${name} passes its readiness check; sending to the registered ones`);
    } else if (this.panicking) {
      logger.info({ subgraph: name }, `subgraph ${name} has a healthy instance again`);
    }
    this.panicking = panic;
    return instances;
  }

  private async attempt(call: SubgraphCall): Promise<SubgraphAnswer> {
    const { name } = this.options;
    const instances = this.routable();
    this.budget.recordRequest();
    const first = this.balancer.pick(instances);
    if (!first) {
      this.options.metrics?.subgraphFetchErrors.inc({ subgraph: name, reason: 'no_instance' });
      throw new SubgraphUnavailableError(name, 'no_instance');
    }
    // One deadline for the call and its retry. Not AbortSignal.timeout: its timer cannot be
    // cleared, so every finished call would still fire it later and build a DOMException (1% of
    // the gateway's CPU in the bench profile).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.options.breaker.timeoutMs);
    const { signal } = deadline;
    try {
      return await this.sendTo(first, call, signal, instances, 1);
    } catch (error) {
      if (!call.retryable || !isRetriable(error) || signal.aborted) throw error;
      const second = this.balancer.pick(instances, new Set([first.id]));
      if (!second) throw error;
      if (!this.budget.tryRetry()) {
        this.options.metrics?.subgraphRetries.inc({ subgraph: name, outcome: 'budget_spent' });
        throw error;
      }
      this.options.metrics?.subgraphRetries.inc({ subgraph: name, outcome: 'retried' });
      return await this.sendTo(second, call, signal, instances, 2);
    } finally {
      clearTimeout(timer);
    }
  }

  private breakerState(): 'closed' | 'open' | 'half_open' {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half_open' : 'closed';
  }

  /** One attempt on one instance, in its client span; the call carries that span's trace context. */
  private sendTo(instance: ServiceInstance, call: SubgraphCall, signal: AbortSignal, peers: ServiceInstance[], attempt: number): Promise<SubgraphAnswer> {
    if (!this.options.tracing) return this.post(instance, call, signal, peers, ignoreStatus);
    const attemptSpan = { subgraph: this.options.name, instance, attempt, breakerState: this.breakerState() };
    return inAttemptSpan(attemptSpan, call.headers, (headers, span) =>
      this.post(instance, { ...call, headers }, signal, peers, (status) => span.setAttribute(FETCH_ATTRIBUTES.statusCode, status)),
    );
  }

  private async post(instance: ServiceInstance, call: SubgraphCall, signal: AbortSignal, peers: ServiceInstance[], answered: (status: number) => void): Promise<SubgraphAnswer> {
    const { name, metrics } = this.options;
    const started = performance.now();
    this.balancer.acquire(instance.id);
    let outcome = 'success';
    try {
      const response = await this.options.http.postJson(instance.url, call.body, call.headers, signal).catch((error: Error) => {
        throw signal.aborted
          ? new SubgraphUnavailableError(name, 'timeout', `no answer within ${this.options.breaker.timeoutMs} ms`)
          : new SubgraphUnavailableError(name, 'connection_failed', error.message);
      });
      answered(response.status);
      // A GraphQL error answer is the subgraph working; a 5xx without a GraphQL body is not.
      if (response.status >= 500 && !response.text.startsWith('{')) {
        throw new SubgraphUnavailableError(name, 'bad_response', `HTTP ${response.status}`);
      }
      this.outliers.recordSuccess(instance.id);
      return response.cacheControl === undefined ? { text: response.text } : { text: response.text, cacheControl: response.cacheControl };
    } catch (error) {
      outcome = 'failure';
      const reason = error instanceof SubgraphUnavailableError ? error.reason : 'connection_failed';
      metrics?.subgraphFetchErrors.inc({ subgraph: name, reason });
      if (reason !== 'timeout' && this.outliers.recordFailure(instance.id, peers.map((peer) => peer.id))) {
        this.options.logger.warn({ subgraph: name, instance: instance.id }, 'instance ejected after consecutive failures');
      }
      throw error;
    } finally {
      this.balancer.release(instance.id);
      if (metrics) observeWithTrace(metrics.subgraphFetchDuration, { subgraph: name, outcome }, (performance.now() - started) / 1000);
      metrics?.ejectedInstances.set({ subgraph: name }, this.outliers.ejected(peers.map((peer) => peer.id)).length);
    }
  }
}

const ignoreStatus = () => undefined;
