/** What the console shows, as one JSON document (`/admin/console.json`), built from its sources on each ask. */
import { breakerState, type BreakerState } from '@trellis/kit/internal';
import type { SagaOverviewSource, SagasView } from './sagaOverview';
import type { SubgraphClient } from '../datasource';
import type { SupergraphSource, SupergraphStatus } from '../supergraph/types';
import type { BreakerJournal, BreakerTransition } from './breakerJournal';
import type { Composition, CompositionHistory } from './compositionHistory';
import type { SubgraphTraffic, TrafficMeter } from './trafficMeter';
import { cacheOverview, type CacheOverviewSource, type CacheView } from './cacheOverview';

export interface ConsoleSources {
  source: SupergraphSource;
  /** The client (breaker, ejections) of a subgraph, once the gateway made one. */
  client: (name: string) => SubgraphClient | undefined;
  journal: BreakerJournal;
  compositions: CompositionHistory;
  traffic: TrafficMeter;
  /** The sagas, from the sagas subgraph. */
  sagas: Pick<SagaOverviewSource, 'overview'>;
  /** The entity cache: its mode and counters, and the registry holding its change feed's liveness. */
  cache: CacheOverviewSource;
  now?: () => number;
}

export interface SubgraphView {
  name: string;
  /** Whether the served supergraph composes it. */
  composed: boolean;
  instances: Array<{ id: string; url: string; healthy: boolean; ejected: boolean }>;
  /** null until the gateway made the subgraph's client (when a supergraph naming it is loaded). */
  breaker: { state: BreakerState; transitions: BreakerTransition[] } | null;
  traffic: Omit<SubgraphTraffic, 'subgraph'> | null;
}

export interface ConsoleSnapshot {
  at: string;
  supergraph: Omit<SupergraphStatus, 'subgraphs'> & { compositions: Composition[] };
  subgraphs: SubgraphView[];
  sagas: SagasView;
  cache: CacheView;
}

export async function consoleSnapshot(sources: ConsoleSources): Promise<ConsoleSnapshot> {
  const { source, client, journal, compositions, traffic, sagas, cache, now = Date.now } = sources;
  const status = source.status();
  const composed = new Set(status.subgraphs.map((subgraph) => subgraph.name));
  const names = [...new Set([...composed, ...source.instances.names()])].sort();
  const rates = new Map(traffic.traffic().map(({ subgraph, ...rest }) => [subgraph, rest]));
  const subgraphs = names.map((name): SubgraphView => {
    const subgraphClient = client(name);
    const ejected = new Set(subgraphClient?.ejectedInstances() ?? []);
    return {
      name,
      composed: composed.has(name),
      instances: source.instances.registeredOf(name).map((instance) => ({ id: instance.id, url: instance.url, healthy: instance.healthy, ejected: ejected.has(instance.id) })),
      breaker: subgraphClient ? { state: breakerState(subgraphClient.breaker), transitions: journal.transitionsOf(name) } : null,
      traffic: rates.get(name) ?? null,
    };
  });
  const { subgraphs: _composedList, ...supergraph } = status;
  return {
    at: new Date(now()).toISOString(),
    supergraph: { ...supergraph, compositions: compositions.entries() },
    subgraphs,
    // Never throws: a sagas subgraph that is absent or down is one line, and the rest of the console works.
    sagas: await sagas.overview(),
    cache: await cacheOverview(cache),
  };
}
