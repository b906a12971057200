/**
 * A private server that dies before it listens fails its start at once, quoting its own output:
 * a server that exited on a taken port or a bad flag is not waited out as if it were slow.
 */
import { privateRedis } from '../../support/privateServers';

describe('private servers', () => {
  it('rejects start() with the exit and the server\'s own words when it ends before listening', async () => {
    const redis = await privateRedis({ args: ['--no-such-directive', 'yes'] });
    await expect(redis.start()).rejects.toThrow(/redis-server exited \(code 1\) before it listened on port \d+:\n[\s\S]*no-such-directive/);
  });

  it('starts a server that listens, and kills it', async () => {
    const redis = await privateRedis();
    await redis.start();
    await redis.kill();
  });
});
