/**
 * The cluster profile itself (`test/stack/up cluster`, cluster.env sourced): every server
 * cluster.env names answers as configured; a SIGKILLed Sentinel master is replaced by its replica
 * within seconds and `up cluster` brings the dead node back as a replica; the Redis Cluster takes a
 * write in each primary's slot range, also after `up cluster` restarted a SIGKILLed primary; a
 * SIGKILLed Consul leader is replaced while the client agent keeps answering; and `up cluster`
 * after `down cluster` brings the whole profile back.
 * The times are printed (failover, new leader, restart), so a slower profile shows in the log.
 */
import Redis, { Cluster } from 'ioredis';
import { kafkajsClient } from '@trellis/kit/internal/events/kafka/kafkajs/client';
import { eventually } from '../support/graphql';
import { CLUSTER_HOWTO, securedCluster } from '../support/cluster';
import { consulLeader, downCluster, hostPorts, leftovers, killProcess, profileProcesses, sentinelMaster, upCluster, type ProfileProcess } from '../support/clusterProfile';

/** The profile's variables (test/stack/cluster.env); a missing one fails with how to get them. */
function profile() {
  const names = ['REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'TRELLIS_STACK_REDIS_CLUSTER_NODES', 'CACHE_REDIS_URL', 'CONSUL_HTTP_ADDR', 'TRELLIS_STACK_CONSUL_SERVERS'] as const;
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`these tests need the cluster profile (${missing.join(', ')} not set): ${CLUSTER_HOWTO}`);
  const env = Object.fromEntries(names.map((name) => [name, process.env[name] as string])) as Record<(typeof names)[number], string>;
  return {
    sentinels: hostPorts(env.REDIS_SENTINELS),
    masterName: env.REDIS_SENTINEL_NAME,
    clusterNodes: hostPorts(env.TRELLIS_STACK_REDIS_CLUSTER_NODES),
    cacheUrl: env.CACHE_REDIS_URL,
    consulAgent: env.CONSUL_HTTP_ADDR,
    consulServers: env.TRELLIS_STACK_CONSUL_SERVERS.split(','),
  };
}

const cluster = profile();
/** Sentinels say down after 2 s (redis-cluster.sh), then elect and promote: seconds, with room for a loaded machine. */
const FAILOVER_MS = 20_000;
/** Raft elects in about a second with raft_multiplier 1 (consul-cluster.sh). */
const ELECTION_MS = 20_000;

const clients: Array<Redis | Cluster> = [];
function redis(port: number): Redis {
  // One connection, no reconnecting: a client of a node the test kills fails, and says so once.
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, disconnectTimeout: 100 });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

async function info(client: Redis, section: string): Promise<Record<string, string>> {
  const text = await client.info(section);
  return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(/:(.*)/s, 2) as [string, string]));
}

async function config(client: Redis, name: string): Promise<string> {
  const [, value] = (await client.config('GET', name)) as [string, string];
  return value;
}

/** The Sentinel-managed data nodes (redis-s1, redis-s2) as the script lists them. */
async function dataNodes(): Promise<ProfileProcess[]> {
  return (await profileProcesses('redis-cluster.sh')).filter((process) => /^redis-s\d$/.test(process.name));
}

/** Every Sentinel names `port` as the master, and that node says it is one. */
async function expectMasterEverywhere(port: number): Promise<void> {
  for (const sentinel of cluster.sentinels) expect([sentinel.port, await sentinelMaster(sentinel.port, cluster.masterName)]).toEqual([sentinel.port, port]);
  expect((await info(redis(port), 'replication')).role).toBe('master');
}

/** `port` is a replica of `masterPort` in sync, and every Sentinel sees it so (a failover could pick it). */
async function expectReplicaOf(port: number, masterPort: number): Promise<void> {
  const replication = await info(redis(port), 'replication');
  expect([replication.role, replication.master_port, replication.master_link_status]).toEqual(['slave', String(masterPort), 'up']);
  for (const sentinel of cluster.sentinels) {
    const flat = (await redis(sentinel.port).call('SENTINEL', 'REPLICAS', cluster.masterName)) as string[][];
    const replicas = flat.map((fields) => Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : []))));
    expect([sentinel.port, replicas.filter((replica) => replica.port === String(port)).map((replica) => replica.flags)]).toEqual([sentinel.port, ['slave']]);
    expect(await redis(sentinel.port).call('SENTINEL', 'CKQUORUM', cluster.masterName)).toMatch(/^OK 3 usable Sentinels/);
  }
}

async function consulPeers(server: string): Promise<string[]> {
  const response = await fetch(`${server}/v1/status/peers`, { signal: AbortSignal.timeout(2000) });
  return (await response.json()) as string[];
}

/** Every Consul server answers with the same leader and three peers, and the agent is a live member. */
async function expectConsulWhole(): Promise<string> {
  const leader = await consulLeader(cluster.consulAgent);
  expect(leader).toMatch(/^127\.0\.0\.1:\d+$/);
  for (const server of cluster.consulServers) {
    expect([server, await consulLeader(server)]).toEqual([server, leader]);
    expect([server, (await consulPeers(server)).length]).toEqual([server, 3]);
    // raft_multiplier 1: elections time out after 1 s (5 s at Consul's default).
    const { DebugConfig } = (await (await fetch(`${server}/v1/agent/self`)).json()) as { DebugConfig: { BootstrapExpect: number; ConsulRaftElectionTimeout: string } };
    expect([server, DebugConfig.BootstrapExpect, DebugConfig.ConsulRaftElectionTimeout]).toEqual([server, 3, '1s']);
  }
  const members = (await (await fetch(`${cluster.consulServers[0]}/v1/agent/members`)).json()) as Array<{ Name: string; Status: number }>;
  expect(members.map((member) => [member.Name, member.Status]).sort()).toEqual([
    ['consul-agent', 1],
    ['consul-s1', 1],
    ['consul-s2', 1],
    ['consul-s3', 1],
  ]);
  return leader;
}

/** Writes through the agent into KV (a Raft write: it needs the leader) and reads it back. */
async function expectKvThroughAgent(key: string): Promise<void> {
  const url = `${cluster.consulAgent}/v1/kv/trellis-profile-test/${key}`;
  const put = await fetch(url, { method: 'PUT', body: key, signal: AbortSignal.timeout(5000) });
  expect(await put.json()).toBe(true);
  const get = await fetch(`${url}?raw`, { signal: AbortSignal.timeout(5000) });
  expect(await get.text()).toBe(key);
}

async function expectEveryServerAnswers(): Promise<void> {
  // Sentinel pair: a master and its replica, each durable (AOF, fsync every second) and never evicting.
  const master = await sentinelMaster(cluster.sentinels[0].port, cluster.masterName);
  await expectMasterEverywhere(master);
  const nodes = await dataNodes();
  expect(nodes.map((node) => node.port)).toContain(master);
  for (const node of nodes) {
    if (node.port !== master) await expectReplicaOf(node.port, master);
    const client = redis(node.port);
    expect([node.name, await config(client, 'appendonly'), await config(client, 'appendfsync'), await config(client, 'maxmemory-policy')]).toEqual([node.name, 'yes', 'everysec', 'noeviction']);
  }
  // Each Sentinel: quorum 2, the master down after 2 s.
  for (const sentinel of cluster.sentinels) {
    const fields = (await redis(sentinel.port).call('SENTINEL', 'MASTER', cluster.masterName)) as string[];
    const master = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
    expect([sentinel.port, master.quorum, master['down-after-milliseconds']]).toEqual([sentinel.port, '2', '2000']);
  }
  // Redis Cluster: every primary in a healthy cluster of three, durable and never evicting.
  for (const node of cluster.clusterNodes) {
    const client = redis(node.port);
    const state = Object.fromEntries(((await client.call('CLUSTER', 'INFO')) as string).split('\r\n').map((line) => line.split(':')));
    expect([node.port, state.cluster_state, state.cluster_known_nodes, state.cluster_size]).toEqual([node.port, 'ok', '3', '3']);
    expect([node.port, await config(client, 'appendonly'), await config(client, 'maxmemory-policy')]).toEqual([node.port, 'yes', 'noeviction']);
  }
  // The cache: LRU over every key, bounded, nothing persisted.
  const cache = redis(Number(new URL(cluster.cacheUrl).port));
  expect([await config(cache, 'maxmemory-policy'), await config(cache, 'maxmemory'), await config(cache, 'appendonly')]).toEqual(['allkeys-lru', String(64 * 1024 * 1024), 'no']);
  await expectConsulWhole();
  // Kafka: the three secured brokers, each registered (a broker just started shows in the metadata a moment after it listens).
  const admin = kafkajsClient({ ...securedCluster(), clientId: 'profile-test' }, { retries: 2 }).admin();
  await admin.connect();
  try {
    const expected = securedCluster().brokers.map((broker) => Number(broker.split(':')[1])).sort();
    await eventually(async () => expect((await admin.describeCluster()).brokers.map((broker) => broker.port).sort()).toEqual(expected), 30_000, 500);
  } finally {
    await admin.disconnect();
  }
}

describe('the cluster profile (test/stack/up cluster)', () => {
  it('has every server cluster.env names answering, configured as the profile says', async () => {
    await expectEveryServerAnswers();
  });

  it('fails over to the replica within seconds when the Sentinel master is SIGKILLed, keeps what reached the replica, and up cluster brings the dead node back as a replica', async () => {
    const oldMaster = await sentinelMaster(cluster.sentinels[0].port, cluster.masterName);
    const nodes = await dataNodes();
    const victim = nodes.find((node) => node.port === oldMaster)!;
    const survivor = nodes.find((node) => node.port !== oldMaster)!;
    const key = `profile-test:${Date.now()}`;
    const writer = redis(oldMaster);
    await writer.set(key, 'acknowledged');
    expect(await writer.wait(1, 5000)).toBe(1);

    const killedAt = Date.now();
    await killProcess(victim.name);
    await eventually(() => expectMasterEverywhere(survivor.port), FAILOVER_MS, 100);
    const failoverMs = Date.now() - killedAt;
    // The platform's way in: an ioredis Sentinel client finds the new master and the write.
    const viaSentinels = new Redis({ sentinels: cluster.sentinels, name: cluster.masterName, lazyConnect: true, maxRetriesPerRequest: 1 });
    clients.push(viaSentinels);
    expect(await viaSentinels.get(key)).toBe('acknowledged');
    await viaSentinels.set(`${key}:after`, 'written after the failover');

    const restartAt = Date.now();
    await upCluster();
    const restartMs = Date.now() - restartAt;
    await expectReplicaOf(victim.port, survivor.port);
    await eventually(async () => expect(await redis(victim.port).get(`${key}:after`)).toBe('written after the failover'), 10_000);
    console.log(`Sentinel failover after SIGKILL of ${victim.name} (:${victim.port}): ${failoverMs} ms; up cluster brought it back as a replica in ${restartMs} ms`);
    expect(failoverMs).toBeLessThan(FAILOVER_MS);
  });

  /** Writes a key into each primary's slot range through `client`, and finds it on that primary itself (not through the client's routing). */
  async function writeToEachSlotRange(client: Cluster): Promise<void> {
    const slots = (await client.cluster('SLOTS')).map(([from, to, [, port]]) => [from, to, port] as const);
    expect(slots.map(([, , port]) => port).sort()).toEqual(cluster.clusterNodes.map((node) => node.port).sort());
    expect(slots.reduce((sum, [from, to]) => sum + to - from + 1, 0)).toBe(16384);
    for (const [from, to, port] of slots) {
      // A key of this range: hash tags {0}, {1}, … until one hashes into it (asked of the node itself).
      const owner = redis(port);
      let key = '';
      for (let tag = 0; !key; tag++) {
        const slot = (await owner.call('CLUSTER', 'KEYSLOT', `{${tag}}`)) as number;
        if (slot >= from && slot <= to) key = `profile-test:{${tag}}:${Date.now()}`;
      }
      await client.set(key, String(port));
      expect([port, await owner.get(key)]).toEqual([port, String(port)]);
    }
  }

  it('writes to each primary of the Redis Cluster, in its own slot range, and again once up cluster brought back a SIGKILLed primary', async () => {
    const client = new Cluster(cluster.clusterNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    clients.push(client);
    await writeToEachSlotRange(client);
    const victim = (await profileProcesses('redis-cluster.sh')).find((process) => process.port === cluster.clusterNodes[1].port)!;
    await killProcess(victim.name);
    await upCluster();
    // Back from its nodes.conf with its slots: a client new to the cluster sees the three and writes to each.
    const fresh = new Cluster(cluster.clusterNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    clients.push(fresh);
    await writeToEachSlotRange(fresh);
  });

  it('elects a new Consul leader within seconds when the leader is SIGKILLed, the client agent answering all along, and up cluster brings the server back', async () => {
    const servers = (await profileProcesses('consul-cluster.sh')).filter((process) => process.rpcPort);
    const oldLeader = await expectConsulWhole();
    const victim = servers.find((server) => oldLeader === `127.0.0.1:${server.rpcPort}`)!;
    expect(victim).toBeDefined();

    // The agent's own endpoint, asked every 100 ms from the kill until there is a new leader: it never fails.
    const agentAnswers: boolean[] = [];
    let electing = true;
    const watchAgent = (async () => {
      while (electing) {
        const answered = await fetch(`${cluster.consulAgent}/v1/agent/self`, { signal: AbortSignal.timeout(2000) }).then((response) => response.ok, () => false);
        agentAnswers.push(answered);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const killedAt = Date.now();
    await killProcess(victim.name);
    const newLeader = await eventually(async () => {
      const leader = await consulLeader(cluster.consulAgent);
      expect(['', oldLeader]).not.toContain(leader);
      return leader;
    }, ELECTION_MS, 100).finally(() => (electing = false));
    const electionMs = Date.now() - killedAt;
    await watchAgent;
    expect(agentAnswers.length).toBeGreaterThan(3);
    expect(agentAnswers.filter((answered) => !answered)).toEqual([]);
    await expectKvThroughAgent('after-leader-killed');

    const restartAt = Date.now();
    await upCluster();
    const restartMs = Date.now() - restartAt;
    await eventually(expectConsulWhole, 10_000);
    console.log(`Consul: new leader ${newLeader} ${electionMs} ms after SIGKILL of ${victim.name} (the agent answered ${agentAnswers.length} of ${agentAnswers.length} polls meanwhile); up cluster brought it back in ${restartMs} ms`);
    expect(electionMs).toBeLessThan(ELECTION_MS);
  });

  it('comes back whole with up cluster after down cluster', async () => {
    const downAt = Date.now();
    await downCluster();
    const downMs = Date.now() - downAt;
    const processes = [...(await profileProcesses('redis-cluster.sh')), ...(await profileProcesses('consul-cluster.sh'))];
    for (const { name, port } of processes.filter((process) => !process.name.startsWith('consul'))) {
      const answered = await redis(port).ping().then(() => true, () => false);
      expect([name, answered]).toEqual([name, false]);
    }
    await expect(fetch(`${cluster.consulAgent}/v1/status/leader`)).rejects.toThrow();
    // Nothing left behind: no pid file of the profile's processes, no Redis or Consul data.
    expect(leftovers(processes.map((process) => process.name))).toEqual([]);
    const upAt = Date.now();
    await upCluster();
    const upMs = Date.now() - upAt;
    await expectEveryServerAnswers();
    await expectKvThroughAgent('after-down-up');
    console.log(`down cluster: ${downMs} ms; up cluster from nothing running: ${upMs} ms`);
  }, 360_000);
});
