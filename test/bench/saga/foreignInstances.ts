/**
 * Watches the shared Consul for instances of the platform's subgraphs that belong to another
 * platform (another test run on the same servers) and carry this platform's namespace tag
 * (`trellis-subgraph@<CONSUL_NAMESPACE>`): the gateway would balance some calls onto them. Other
 * namespaces' instances share the service names but are never composed, so they are not counted.
 */
import { realBackends } from '../../support/backends';

const SUBGRAPHS = ['users', 'catalog', 'orders', 'payments', 'sagas'];

/** Polls until the returned function is called; it returns the foreign `host:port` seen per subgraph. */
export function watchForeignInstances(base: number, namespace: string | undefined, intervalMs = 2000): () => Map<string, Set<string>> {
  const foreign = new Map<string, Set<string>>();
  const ours = (port: number) => port >= base && port < base + 1000;
  const poll = async () => {
    try {
      await pollOnce();
    } catch {
      // A slow Consul (the body cut off by the timeout) is a missed poll, not a failed bench.
    }
  };
  const pollOnce = async () => {
    for (const name of SUBGRAPHS) {
      const response = await fetch(`${realBackends.consulUrl}/v1/catalog/service/${name}`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      if (!response?.ok) continue;
      for (const entry of (await response.json()) as Array<{ ServiceAddress: string; ServicePort: number; ServiceTags?: string[] }>) {
        if (ours(entry.ServicePort)) continue;
        if (namespace && !entry.ServiceTags?.includes(`trellis-subgraph@${namespace}`)) continue;
        foreign.set(name, (foreign.get(name) ?? new Set()).add(`${entry.ServiceAddress}:${entry.ServicePort}`));
      }
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), intervalMs);
  return () => {
    clearInterval(timer);
    return foreign;
  };
}
