/** The `trellis` bin as a process: in the repository it runs the CLI's TypeScript sources (no build), with the exit codes the CLI gives. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const BIN = path.resolve(__dirname, '..', '..', '..', '..', 'shared/bin/trellis.js');

async function trellis(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('the trellis bin', () => {
  it('prints its help and exits 0', async () => {
    const { code, stdout } = await trellis('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}new subgraph {2}Write a new subgraph project/m);
  });

  it('exits 2 with one line on stderr when it refuses a name', async () => {
    expect(await trellis('new', 'subgraph', 'Not_A_Name')).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/^trellis: invalid subgraph name "Not_A_Name": [^\n]*\n$/),
    });
  });
});
