/**
 * test/stack/README.md's cluster profile: the processes and ports its tables list are the ones the
 * scripts start (`ports` of kafka-cluster.sh, redis-cluster.sh and consul-cluster.sh), and the
 * variables it says `up cluster` writes are the ones the scripts print for cluster.env (`env`).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { readDoc, REPO_ROOT } from '../../support/markdown';

const readme = readDoc('test/stack/README.md');
const script = (name: string, command: string) => execFileSync('bash', [path.join(REPO_ROOT, 'test/stack', name), command], { encoding: 'utf8' }).trim().split('\n');

/** The rows of the table that follows `phrase`, as lists of cells (header and rule left out). */
function tableAfter(phrase: string): string[][] {
  const start = readme.indexOf(phrase);
  expect(start).toBeGreaterThan(-1);
  const lines = readme.slice(start).split('\n');
  const first = lines.findIndex((line) => line.trim().startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.trim().startsWith('|')) break;
    rows.push(line.trim().slice(1, -1).split('|').map((cell) => cell.trim().replace(/`/g, '')));
  }
  return rows;
}

/** The section of the README that describes `phrase`'s bullet, up to the next top-level bullet. */
function bullet(phrase: string): string {
  const start = readme.indexOf(phrase);
  const end = readme.indexOf('\n- **', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe("test/stack/README.md's cluster profile", () => {
  it('lists every Kafka node with the ports and pid file kafka-cluster.sh gives it', () => {
    const documented = tableAfter('**Kafka cluster (`up cluster`)**').map(([node, plaintext, sasl, controller, pidFile]) => `kafka-c${node} ${plaintext} ${sasl} ${controller} ${pidFile}`);
    const started = script('kafka-cluster.sh', 'ports').map((line) => `${line} ${line.split(' ')[0]}.pid`);
    expect(documented).toEqual(started);
  });

  it('lists every Redis, Sentinel and Consul process with the port redis-cluster.sh and consul-cluster.sh give it', () => {
    const documented = tableAfter('**Redis and Consul of the cluster profile').map(([name, port]) => `${name} ${port}`);
    const started = [...script('redis-cluster.sh', 'ports'), ...script('consul-cluster.sh', 'ports')].map((line) => line.split(' ').slice(0, 2).join(' '));
    expect([...documented].sort()).toEqual([...started].sort());
    // The Consul servers' RPC ports, which the table names too (how /v1/status/leader names the leader).
    for (const line of script('consul-cluster.sh', 'ports').filter((entry) => entry.split(' ').length === 3)) {
      const [name, , rpc] = line.split(' ');
      const row = tableAfter('**Redis and Consul of the cluster profile').find(([documentedName]) => documentedName === name)!;
      expect([name, row[2]]).toEqual([name, expect.stringContaining(`server RPC ${rpc}`)]);
    }
  });

  it('names every variable up cluster writes to cluster.env, with the value the scripts give where it says one', () => {
    const printed = [...script('redis-cluster.sh', 'env'), ...script('consul-cluster.sh', 'env')].map((line) => /^export ([A-Z_]+)=(.*)$/.exec(line)!.slice(1));
    const text = bullet('**Redis and Consul of the cluster profile');
    expect(printed.map(([name]) => name).sort()).toEqual([...text.matchAll(/`([A-Z][A-Z_]+)(?:=[^`]*)?`/g)].map((match) => match[1]).sort());
    for (const [name, value] of printed) {
      const shown = new RegExp(`\`${name}=([^\`]*)\``).exec(text)?.[1];
      if (shown !== undefined) expect([name, shown]).toEqual([name, value]);
    }
    // The values the README describes in words: three Sentinels, three Cluster primaries, three servers.
    const values = Object.fromEntries(printed);
    expect(values.REDIS_SENTINELS.split(',')).toHaveLength(3);
    expect(values.TRELLIS_STACK_REDIS_CLUSTER_NODES.split(',')).toHaveLength(3);
    expect(values.TRELLIS_STACK_CONSUL_SERVERS.split(',')).toHaveLength(3);
    expect(values.CACHE_REDIS_URL).toBe(`redis://127.0.0.1:${tableAfter('**Redis and Consul of the cluster profile').find(([name]) => name === 'redis-cache')![1]}`);
    expect(values.CONSUL_HTTP_ADDR).toBe(`http://127.0.0.1:${tableAfter('**Redis and Consul of the cluster profile').find(([name]) => name === 'consul-agent')![1]}`);
  });
});
