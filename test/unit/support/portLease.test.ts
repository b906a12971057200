/**
 * Port-block leases hold across processes: a block leased by a live process is refused to another
 * (even after that other tries to release it), and a lease whose process is gone is taken over.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { tryLease, releaseLease } from '../../support/portLease';

const LEASE_MODULE = JSON.stringify(require.resolve('../../support/portLease'));
const key = () => `test-${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Runs `tryLease(lease)` in a Node process that exits right after, leaving its lease stale. */
function leaseInShortLivedProcess(lease: string): boolean {
  const script = `require('tsx/cjs'); process.stdout.write(String(require(${LEASE_MODULE}).tryLease(${JSON.stringify(lease)})));`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  return child.stdout === 'true';
}

describe('port leases', () => {
  it('refuses a lease held by this live process to another process, and to itself, until released', () => {
    const lease = key();
    try {
      expect(tryLease(lease)).toBe(true);
      expect(tryLease(lease)).toBe(false);
      expect(leaseInShortLivedProcess(lease)).toBe(false);
      releaseLease(lease);
      expect(tryLease(lease)).toBe(true);
    } finally {
      releaseLease(lease);
    }
  });

  it("takes over the lease of a process that is gone, and never releases a live process's lease", async () => {
    const lease = key();
    expect(leaseInShortLivedProcess(lease)).toBe(true);
    expect(tryLease(lease)).toBe(true); // its holder exited: stale, taken over
    releaseLease(lease);

    const holder = spawn(process.execPath, ['-e', `require('tsx/cjs'); require(${LEASE_MODULE}).tryLease(${JSON.stringify(lease)}); console.log('held'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await once(holder.stdout!, 'data');
      releaseLease(lease); // not ours: kept
      expect(tryLease(lease)).toBe(false);
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    expect(tryLease(lease)).toBe(true);
    releaseLease(lease);
  });
});
