/**
 * A Sentinel-set state store whose reconnect is under way when the failover is announced. ioredis
 * (5.11, `failoverDetector`) keeps the detector of the connection that died; when its
 * `+switch-master` lands while the client is asking a Sentinel for the primary anew, the client
 * ends for good ("Connection is closed", status `end`), and every later command fails with
 * `not connected (end)` although Redis is healthy again. A hung Sentinel (SIGSTOP: it accepts
 * connections and answers nothing) makes that window as long as it hangs, and without a Sentinel
 * command timeout the client waits on it for ever. The scale-out chaos test met it on the cluster
 * profile: one catalog replica's store never came back after the primary was SIGKILLed.
 */
import { RedisStateStore } from '@trellis/kit/internal/state';
import { eventually } from '../../support/graphql';
import { privateSentinelSet, type PrivateSentinelSet } from '../../support/privateRedisTopologies';

describe('a Sentinel-set state store across a failover announced mid-reconnect', () => {
  let set: PrivateSentinelSet | undefined;
  let state: RedisStateStore | undefined;
  afterEach(async () => {
    await state?.close();
    await set?.stop();
  });

  it('comes back once the Sentinels name the promoted replica, though the Sentinel it asked first hung', async () => {
    set = await privateSentinelSet();
    // The Sentinel command timeout is the command timeout: 10 s, so the ask to the hung Sentinel outlasts the failover's announcement.
    state = new RedisStateStore({ topology: set.topology, commandTimeoutMs: 10_000 });
    await state.set('k', 'before');
    // The client asks the Sentinels in their order: the first one hangs through the whole failover.
    const [first] = set.topology.sentinels;
    set.pauseSentinel(first.port);
    const killedAt = Date.now();
    const old = await set.killPrimary();
    await set.promoted(old);
    set.resumeSentinel(first.port);
    await eventually(
      async () => {
        await state!.set('k', 'after');
        expect(await state!.get('k')).toBe('after');
      },
      30_000,
      200,
    );
    console.log(`Sentinel-set store writing again ${Date.now() - killedAt} ms after the primary was SIGKILLed (first Sentinel hung meanwhile)`);
  }, 120_000);
});
