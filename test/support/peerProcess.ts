/**
 * A graphql-ws peer in a child process (test/support/subscriptionPeer.ts) that a test can freeze
 * for real: `freeze()` sends SIGSTOP, so the peer's kernel still holds the TCP connection open but
 * nothing answers (a hung process, a paused VM), and `thaw()` SIGCONT. `stop()` thaws and kills it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface PeerProcess {
  name: string;
  /** The peer's GraphQL URL (`http://127.0.0.1:<port>/graphql`; graphql-ws on the same path). */
  url: string;
  pid: number;
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export async function spawnPeer(name: string, timeoutMs = 60_000): Promise<PeerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, 'test/support/subscriptionPeer.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PEER_NAME: name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`peer ${name} did not start within ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /^peer (\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`peer ${name} exited with ${code} before serving`));
    });
  });
  return {
    name,
    url,
    pid: child.pid!,
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
