import { COMMANDS, runCli, UsageError, type CliIo, type Command } from '@trellis/kit/internal/cli';

function recordingIo(cwd = '/nowhere'): CliIo & { stdout: string; stderr: string } {
  const io = { cwd, stdout: '', stderr: '', out: (text: string) => void (io.stdout += text), err: (text: string) => void (io.stderr += text) };
  return io;
}

/** A later day-two command, to show the table dispatches by its words and parses its own options. */
const recorded: Array<{ positionals: string[]; options: Record<string, unknown> }> = [];
const dlqReplay: Command = {
  words: ['dlq', 'replay'],
  summary: 'Replay dead letters.',
  usage: '<topic> [--limit <n>]',
  details: '--limit <n>  at most n messages',
  options: { limit: { type: 'string' } },
  run: async ({ positionals, options }) => {
    recorded.push({ positionals, options });
    return 0;
  },
};

describe('trellis CLI', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])('%j prints every command with its summary, exit 0', async (argv) => {
    const io = recordingIo();
    expect(await runCli(argv, io, COMMANDS)).toBe(0);
    expect(io.stdout).toContain('Usage: trellis <command> [options]');
    expect(io.stdout).toMatch(/^ {2}new subgraph {2}Write a new subgraph project/m);
    expect(io.stderr).toBe('');
  });

  it("prints a command's usage and options for `<command> --help`, exit 0", async () => {
    const io = recordingIo();
    expect(await runCli(['new', 'subgraph', '--help'], io, COMMANDS)).toBe(0);
    expect(io.stdout).toContain('Usage: trellis new subgraph <name> [--dir <path>] [--kit <spec>]');
    expect(io.stdout).toContain('--dir <path>');
    expect(io.stdout).toContain('npx trellis new subgraph reviews --dir ../reviews');
  });

  it('refuses an unknown command with exit 2, naming it and listing the commands', async () => {
    const io = recordingIo();
    expect(await runCli(['make', 'coffee'], io, COMMANDS)).toBe(2);
    expect(io.stderr).toMatch(/^trellis: unknown command "make coffee"/);
    expect(io.stderr).toContain('new subgraph');
    expect(io.stdout).toBe('');
  });

  it('refuses an unknown option with exit 2, naming it', async () => {
    const io = recordingIo();
    expect(await runCli(['new', 'subgraph', 'reviews', '--frobnicate'], io, COMMANDS)).toBe(2);
    expect(io.stderr).toContain("Unknown option '--frobnicate'");
    expect(io.stderr).toContain('Usage: trellis new subgraph');
  });

  it('refuses an option without its value with exit 2', async () => {
    const io = recordingIo();
    expect(await runCli(['new', 'subgraph', 'reviews', '--dir'], io, COMMANDS)).toBe(2);
    expect(io.stderr).toContain("Option '--dir <value>' argument missing");
  });

  it('dispatches by the longest matching words and hands the command its own parsed options', async () => {
    const io = recordingIo();
    const table = [{ ...dlqReplay, words: ['dlq'], run: async () => 7 }, dlqReplay, ...COMMANDS];
    expect(await runCli(['dlq', 'replay', 'orders.dlq', '--limit', '5'], io, table)).toBe(0);
    expect(recorded).toEqual([{ positionals: ['orders.dlq'], options: { limit: '5' } }]);
    expect(await runCli(['dlq', 'other'], io, table)).toBe(7);
  });

  it('exits 2 on a UsageError and 1 on any other failure, with one line on stderr', async () => {
    const failing = (error: Error): Command => ({ ...dlqReplay, run: async () => Promise.reject(error) });
    const refused = recordingIo();
    expect(await runCli(['dlq', 'replay'], refused, [failing(new UsageError('no such topic'))])).toBe(2);
    expect(refused.stderr).toBe('trellis: no such topic\n');
    const broken = recordingIo();
    expect(await runCli(['dlq', 'replay'], broken, [failing(new Error('EACCES: permission denied'))])).toBe(1);
    expect(broken.stderr).toBe('trellis: EACCES: permission denied\n');
  });
});
