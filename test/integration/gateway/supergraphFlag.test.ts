/** `node --import tsx gateway/main.ts --supergraph <file>`, as docs/operators.md writes it: a gateway process that answers from that file. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { usersSubgraph, typeDefs as usersSdl } from '../../../subgraphs/users';
import type { Subgraph } from '@trellis/kit';
import { eventually, postGraphQL } from '../../support/graphql';
import { startSubgraph } from '../../support/inProcess';
import { freePort } from '../../support/ports';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('gateway --supergraph flag', () => {
  let users: Subgraph;
  beforeAll(async () => {
    users = await startSubgraph(usersSubgraph, {});
  });
  afterAll(() => users.stop());

  it.each([['--supergraph', 'file'], ['--supergraph=file']])('%s starts a gateway process that serves the file, and stops cleanly', async (...flag) => {
    const composed = composeSupergraph([{ name: 'users', sdl: usersSdl, url: users.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-flag-')), 'supergraph.graphql');
    writeFileSync(file, composed.supergraphSdl);
    const args = flag.length === 2 ? [flag[0], file] : [`--supergraph=${file}`];
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '2000' };
    for (const name of ['CONSUL_HTTP_ADDR', 'REDIS_URL', 'KAFKA_BROKERS', 'SUPERGRAPH_PATH', 'TRELLIS_DEVHUB_URL']) delete env[name];
    const child = spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', 'gateway/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}/graphql`;
      await eventually(async () => {
        expect(child.exitCode).toBeNull();
        expect((await postGraphQL(url, '{ user(id: "u1") { name } }', { timeoutMs: 2000 })).body.data).toEqual({ user: { name: 'Ada Lovelace' } });
      }, 60_000, 250);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
