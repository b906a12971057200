/** The state store's Redis topology and replica waits, from REDIS_URL / REDIS_SENTINELS / REDIS_CLUSTER_NODES / REDIS_MIN_REPLICAS_ACK. */
import { loadConfig } from '@trellis/kit/internal/config';

describe('Redis topology configuration', () => {
  it('takes a Sentinel set with its master name, and a Cluster from some of its nodes', () => {
    expect(loadConfig({ REDIS_SENTINELS: '127.0.0.1:26379, sentinel-b:26380', REDIS_SENTINEL_NAME: 'trellis', REDIS_SENTINEL_PASSWORD: 's3cret' }).redis.topology).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
      ],
      name: 'trellis',
      sentinelPassword: 's3cret',
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:17001,[::1]:17002' }).redis.topology).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 17001 },
        { host: '::1', port: 17002 },
      ],
    });
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).redis.topology).toEqual({ kind: 'standalone', url: 'redis://r:6379' });
    expect(loadConfig({}).redis.topology).toBeUndefined();
  });

  it('refuses two topologies at once, naming both variables', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:1' })).toThrow(
      'REDIS_URL and REDIS_CLUSTER_NODES are both set; the state store runs on one Redis topology, set only one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES',
    );
    expect(() => loadConfig({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'a:1' })).toThrow('REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set');
  });

  it('refuses a Sentinel set without its master name, and an address that is not host:port', () => {
    expect(() => loadConfig({ REDIS_SENTINELS: 'a:26379' })).toThrow('REDIS_SENTINELS needs REDIS_SENTINEL_NAME');
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:17001,nowhere' })).toThrow('REDIS_CLUSTER_NODES="127.0.0.1:17001,nowhere": "nowhere" is not host:port');
    expect(() => loadConfig({ REDIS_SENTINELS: 'a:70000', REDIS_SENTINEL_NAME: 'm' })).toThrow('"a:70000" is not host:port');
  });

  it('waits for no replica by default; a replica wait must fit in a command', () => {
    expect(loadConfig({}).redis.replicaAck).toEqual({ minReplicas: 0, timeoutMs: 1000 });
    expect(loadConfig({ REDIS_MIN_REPLICAS_ACK: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '300' }).redis.replicaAck).toEqual({ minReplicas: 1, timeoutMs: 300 });
    expect(() => loadConfig({ REDIS_MIN_REPLICAS_ACK: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '2000' })).toThrow(
      'REDIS_REPLICA_ACK_TIMEOUT_MS=2000 must be below REDIS_COMMAND_TIMEOUT_MS=2000',
    );
    expect(() => loadConfig({ REDIS_MIN_REPLICAS_ACK: '-1' })).toThrow('REDIS_MIN_REPLICAS_ACK="-1"');
  });
});
