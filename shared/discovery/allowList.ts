/**
 * Which discovered subgraph instances the gateway may trust (`SUBGRAPH_ALLOW`): a comma-separated
 * list of subgraph names, each optionally with the hosts it may live on, as host names, IP
 * addresses or CIDR blocks separated by `|`:
 *
 *   SUBGRAPH_ALLOW="users@10.0.0.0/8,catalog@catalog.internal|catalog-2.internal,orders@127.0.0.1"
 *
 * An instance whose name is not listed, or whose GraphQL URL is on a host not listed for that
 * name, is refused: never composed, never sent a request (nor a caller's token).
 */
import { BlockList, isIP } from 'node:net';
import type { ServiceInstance } from './types';

export interface SubgraphAllowList {
  /** Why this instance may not join the graph, or null when it may. */
  refusal(instance: Pick<ServiceInstance, 'name' | 'url'>): string | null;
  /** The names listed, for logs. */
  readonly names: string[];
}

interface Rule {
  /** Undefined: any host. */
  hosts?: { names: Set<string>; addresses: BlockList };
}

const NAME = /^[A-Za-z0-9_-]+$/;

export function parseAllowList(text: string): SubgraphAllowList {
  const rules = new Map<string, Rule>();
  for (const entry of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [name, hostList, ...extra] = entry.split('@');
    if (!NAME.test(name) || extra.length > 0) throw new Error(`"${entry}" is not name or name@host|cidr (name: letters, digits, _ and -)`);
    if (hostList === undefined) {
      rules.set(name, {});
      continue;
    }
    const names = new Set<string>();
    const addresses = new BlockList();
    for (const spec of hostList.split('|').map((host) => host.trim())) {
      if (!spec) throw new Error(`"${entry}" has an empty host`);
      const [address, bits, ...rest] = spec.split('/');
      const family = isIP(address);
      if (bits !== undefined || rest.length > 0) {
        const prefix = Number(bits);
        const max = family === 6 ? 128 : 32;
        if (!family || rest.length > 0 || !/^\d+$/.test(bits ?? '') || prefix > max) throw new Error(`"${spec}" in "${entry}" is not a CIDR block like 10.0.0.0/8`);
        addresses.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
      } else if (family) addresses.addAddress(address, family === 6 ? 'ipv6' : 'ipv4');
      else if (/^[A-Za-z0-9.-]+$/.test(spec)) names.add(spec.toLowerCase());
      else throw new Error(`"${spec}" in "${entry}" is not a host name, an IP address or a CIDR block`);
    }
    rules.set(name, { hosts: { names, addresses } });
  }
  if (rules.size === 0) throw new Error('lists no subgraph (unset it to allow any)');

  return {
    names: [...rules.keys()],
    refusal({ name, url }) {
      const rule = rules.get(name);
      if (!rule) return `subgraph name "${name}" is not in SUBGRAPH_ALLOW`;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return `GraphQL URL "${url}" is not a URL`;
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `GraphQL URL "${url}" is not http or https`;
      if (!rule.hosts) return null;
      const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      const family = isIP(host);
      const allowed = family ? rule.hosts.addresses.check(host, family === 6 ? 'ipv6' : 'ipv4') : rule.hosts.names.has(host);
      return allowed ? null : `host ${host} is not allowed for subgraph "${name}" in SUBGRAPH_ALLOW`;
    },
  };
}
