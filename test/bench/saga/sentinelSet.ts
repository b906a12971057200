/**
 * The Redis Sentinel set the `sentinel` backends keep their state on: the one REDIS_SENTINELS
 * names, or a private one the bench starts on loopback (a primary, one replica, three Sentinels,
 * as the state store's topology tests start it) and stops at the end.
 */
import Redis from 'ioredis';
import { ask, privateSentinelSet } from '../../support/privateRedisTopologies';
import type { RedisServer } from './cpu';
import type { SagaBenchSettings } from './settings';

export interface BenchSentinelSet {
  /** The state store's variables for a platform on this set (REDIS_MIN_REPLICAS_ACK comes per run). */
  env: Record<string, string>;
  /** What the set is, for the results. */
  description: string;
  /** The primary and its replicas now, for counting their CPU (the Sentinels' view). */
  servers(): Promise<RedisServer[]>;
  stop(): Promise<void>;
}

/** One Sentinel command on a short-lived connection (`host:port`, the Sentinels may be given on other hosts). */
function askSentinel<T>(address: string, command: (redis: Redis) => Promise<T>): Promise<T> {
  const [host, port] = address.split(':');
  return ask(Number(port), command, host);
}

/** A replica as `SENTINEL replicas` lists it: a flat list of field, value. */
const portOf = (fields: string[]) => Number(fields[fields.indexOf('port') + 1]);

export async function benchSentinelSet(settings: SagaBenchSettings): Promise<BenchSentinelSet> {
  const given = settings.sentinels;
  const set = given ? undefined : await privateSentinelSet();
  const addresses = given?.addresses ?? set!.topology.sentinels.map(({ host, port }) => `${host}:${port}`).join(',');
  const name = given?.name ?? set!.topology.name;
  return {
    env: { REDIS_SENTINELS: addresses, REDIS_SENTINEL_NAME: name },
    description: given ? `the Sentinel set REDIS_SENTINELS names (${addresses}, master ${name})` : 'a private Sentinel set started by the bench on loopback: a primary, one replica, three Sentinels (quorum 2)',
    async servers() {
      const first = addresses.split(',')[0].trim();
      const [primary, replicas] = await askSentinel(first, async (redis) => [
        (await redis.call('SENTINEL', 'get-master-addr-by-name', name)) as string[],
        (await redis.call('SENTINEL', 'replicas', name)) as string[][],
      ]);
      return [{ name: 'redis primary', port: Number(primary[1]) }, ...replicas.map((fields, i) => ({ name: i === 0 ? 'redis replica' : `redis replica ${i + 1}`, port: portOf(fields) }))];
    },
    stop: async () => set?.stop(),
  };
}
