import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';
import { FileSupergraphSource } from '../../../../gateway/supergraph/fileSource';
import type { SupergraphStatus } from '../../../../gateway/supergraph/types';
import { recordingLogger } from '../../../support/recordingLogger';

const sdlOwning = (field: string) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { ${field}: String }`;

function supergraph(...subgraphs: Array<[name: string, field: string]>): string {
  const result = composeSupergraph(subgraphs.map(([name, field]) => ({ name, url: `http://${name}.test/graphql`, sdl: sdlOwning(field) })));
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.supergraphSdl;
}

describe('FileSupergraphSource', () => {
  let dir: string;
  let file: string;
  const sources: FileSupergraphSource[] = [];
  const first = supergraph(['users', 'me'], ['catalog', 'products']);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'trellis-file-source-'));
    file = path.join(dir, 'supergraph.graphql');
  });
  afterEach(async () => {
    for (const source of sources.splice(0)) await source.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function source(filePath = file) {
    const { logger, lines } = recordingLogger();
    const created = new FileSupergraphSource({ path: filePath, logger, pollIntervalMs: 10 });
    sources.push(created);
    return { source: created, lines };
  }

  /** Writes the file and waits for the source's verdict on it (the watcher polls every 10 ms). */
  async function rewrite(target: FileSupergraphSource, text: string, event: 'served' | 'failed'): Promise<SupergraphStatus> {
    const verdict = once(target, event);
    writeFileSync(file, text);
    // The watcher may take its first look only after this write (and then sees no change): touch the file until it reports.
    const nudge = setInterval(() => {
      const now = new Date();
      utimesSync(file, now, now);
    }, 50);
    try {
      const [status] = (await verdict) as [SupergraphStatus];
      return status;
    } finally {
      clearInterval(nudge);
    }
  }

  it('serves the file it is given, with one instance per subgraph URL the file names', async () => {
    writeFileSync(file, first);
    const { source: s, lines } = source();
    expect(s.sdl()).toBeNull();
    expect(s.status()).toMatchObject({ hash: null, version: 0, composedAt: null, source: 'file', compositionFailures: 0, lastError: null });
    const served = once(s, 'served');
    await s.start();
    await expect(s.ready()).resolves.toBe(first);
    const [status] = (await served) as [SupergraphStatus];
    expect(s.sdl()).toBe(first);
    expect(status).toEqual({
      hash: createHash('sha256').update(first).digest('hex'),
      version: 1,
      composedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      source: 'file',
      subgraphs: [
        { name: 'catalog', url: 'http://catalog.test/graphql', instances: ['catalog@http://catalog.test/graphql'] },
        { name: 'users', url: 'http://users.test/graphql', instances: ['users@http://users.test/graphql'] },
      ],
      refused: [],
      untrusted: [],
      lastError: null,
      compositionFailures: 0,
    });
    expect(s.instances.instancesOf('users')).toEqual([
      { id: 'users@http://users.test/graphql', name: 'users', url: 'http://users.test/graphql', meta: {}, healthy: true },
    ]);
    expect(s.instances.names()).toEqual(['catalog', 'users']);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', msg: 'supergraph file served', path: file, version: 1 }));
  });

  it('hands the gateway the file through initialize, and every new good version through update', async () => {
    writeFileSync(file, first);
    const { source: s } = source();
    await s.start();
    const update = jest.fn();
    const { supergraphSdl, cleanup } = await s.initialize({ update } as never);
    expect(supergraphSdl).toBe(first);
    expect(typeof cleanup).toBe('function');
    const second = supergraph(['users', 'me'], ['orders', 'orders']);
    const status = await rewrite(s, second, 'served');
    expect(update.mock.calls).toEqual([[second]]);
    expect(status.version).toBe(2);
    expect(status.subgraphs.map((sub) => sub.name)).toEqual(['orders', 'users']);
    expect(s.instances.names()).toEqual(['orders', 'users']);
    expect(s.sdl()).toBe(second);
  });

  it('refuses a broken first file: start fails naming the file and the error, and ready rejects', async () => {
    writeFileSync(file, 'this is not a supergraph');
    const { source: s, lines } = source();
    await expect(s.start()).rejects.toThrow(new RegExp(`^supergraph file ${file} cannot be served: .+`));
    await expect(s.ready()).rejects.toThrow(`supergraph file ${file} cannot be served`);
    expect(s.status()).toMatchObject({ version: 0, compositionFailures: 1, lastError: { at: expect.any(String), message: expect.any(String) } });
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'supergraph file refused; keeping the last good one', path: file }));
  });

  it('refuses a missing file', async () => {
    const { source: s } = source(path.join(dir, 'missing.graphql'));
    await expect(s.start()).rejects.toThrow(/ENOENT/);
  });

  it('resolves a relative path against the working directory', async () => {
    writeFileSync(file, 'broken');
    const { source: s } = source(path.relative(process.cwd(), file));
    await expect(s.start()).rejects.toThrow(`supergraph file ${file} cannot be served`);
  });

  it('keeps the last good supergraph when the file turns bad, and records the error', async () => {
    writeFileSync(file, first);
    const { source: s } = source();
    await s.start();
    const status = await rewrite(s, 'type Query {', 'failed');
    expect(s.sdl()).toBe(first);
    expect(status.version).toBe(1);
    expect(status.compositionFailures).toBe(1);
    expect(status.lastError?.message).toMatch(/Syntax Error/);
    expect(s.instances.names()).toEqual(['catalog', 'users']);
    // A good file after the bad one is served again.
    const fixed = supergraph(['users', 'me']);
    expect((await rewrite(s, fixed, 'served')).version).toBe(2);
  });

  it('keeps the last good supergraph when the gateway refuses the new one', async () => {
    writeFileSync(file, first);
    const { source: s } = source();
    await s.start();
    await s.initialize({
      update: () => {
        throw new Error('gateway says no');
      },
    } as never);
    const status = await rewrite(s, supergraph(['users', 'me']), 'failed');
    expect(status.lastError?.message).toBe('gateway says no');
    expect(s.sdl()).toBe(first);
    expect(s.instances.names()).toEqual(['catalog', 'users']);
  });

  it('serves nothing new when the file is rewritten with the same text', async () => {
    writeFileSync(file, first);
    const { source: s } = source();
    await s.start();
    const served = jest.fn();
    s.on('served', served);
    writeFileSync(file, first);
    // Whether or not the watcher saw the rewrite on its own, the next change is version 2, not 3.
    const status = await rewrite(s, supergraph(['users', 'me']), 'served');
    expect(status.version).toBe(2);
    expect(served).toHaveBeenCalledTimes(1);
  });
});
