/**
 * docs/bff.md and docs/clients.md, run as written: every shell block of each guide, in order, in
 * bash, against the platform `npm start` runs (only the ports are the test platform's, and the saga
 * id the one the guide's own placeOrder got), each answer compared with the output the guide shows
 * after the block. The BFF guide runs first: its answers show the stock before any order.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, parseSseEvents, postGraphQL } from '../support/graphql';
import { platformToken } from '../support/identity';
import { fencedBlocks, readDoc, type FencedBlock } from '../support/markdown';
import { startPlatform, type RunningPlatform } from '../support/platform';

const SHELL = new Set(['bash', 'sh', 'shell', 'console']);
/** The saga id the client guide shows; its later blocks ask about it. */
const SHOWN_SAGA_ID = '3d37527b-9596-46d3-8dc8-6c8a6a1030e1';
/** The ports the guides show, as offsets of the platform's base port (`TRELLIS_PORT_BASE`). */
const PORT_OFFSETS: Record<string, number> = { '4000': 0, '4100': 100, '4200': 200, '4400': 400 };
/** Variables a block sets for the blocks after it, as one shell session would keep them. */
const CARRIED = ['TOKEN', 'TOKEN_U1', 'H'];

interface Step {
  block: FencedBlock;
  /** The output the guide shows for the block: the next fenced block, when it is not a command or code. */
  shown?: FencedBlock;
}

function steps(doc: string): Step[] {
  const blocks = fencedBlocks(readDoc(doc));
  return blocks.flatMap((block, index) => {
    if (!SHELL.has(block.language)) return [];
    const next = blocks[index + 1];
    return [{ block, shown: next && ['json', ''].includes(next.language) ? next : undefined }];
  });
}

/** A mobile BFF answer shown with `curl -i`: the status line, the headers shown, the body. */
function expectHttpAnswer(actual: string, shown: string): void {
  const [actualHead, actualBody] = actual.replace(/\r/g, '').split('\n\n');
  const [shownHead, shownBody] = shown.split('\n\n');
  const [shownStatus, ...shownHeaders] = shownHead.split('\n');
  const actualLines = actualHead.split('\n');
  expect(actualLines[0]).toBe(shownStatus);
  const headers = new Map(
    actualLines
      .slice(1)
      .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  for (const line of shownHeaders) {
    const name = line.slice(0, line.indexOf(':'));
    const value = line.slice(line.indexOf(':') + 1).trim();
    // The requests left and the seconds to reset depend on when the test runs; their form does not.
    const comparable = (text: string | undefined) =>
      name.startsWith('ratelimit') && name !== 'ratelimit-policy' ? text?.replace(/\d+/g, 'N') : text;
    expect([name, comparable(headers.get(name))]).toEqual([name, comparable(value)]);
  }
  expect(JSON.parse(actualBody)).toEqual(JSON.parse(shownBody));
}

/** A web session's lifetime is its token's, which began a moment before: shown as 3599 s, it is a few seconds under the hour. */
const settled = (json: string): unknown =>
  JSON.parse(json, (key, value: unknown) =>
    key === 'expiresInSec' && typeof value === 'number' && value > 3590 && value <= 3600 ? 'about an hour' : value,
  );

function expectOutput(actual: string, shown: FencedBlock): void {
  if (shown.language === 'json') {
    expect(settled(actual)).toEqual(settled(shown.body));
  } else if (shown.body.startsWith('HTTP/')) {
    expectHttpAnswer(actual, shown.body);
  } else if (shown.body.startsWith('event:')) {
    expect(parseSseEvents(actual)).toEqual(parseSseEvents(shown.body));
  } else {
    throw new Error(`no way to compare the output shown at line ${shown.line}`);
  }
}

describe('the client and BFF guides, run as written against `npm start`', () => {
  let platform: RunningPlatform;
  let session: string;
  let sagaId = SHOWN_SAGA_ID;

  beforeAll(async () => {
    platform = await startPlatform();
    session = mkdtempSync(path.join(tmpdir(), 'trellis-guides-'));
  }, 120_000);
  afterAll(async () => {
    rmSync(session, { recursive: true, force: true });
    expect(await platform.stop()).toBe(0);
  });

  const asOnThePlatform = (text: string) =>
    text
      .replace(
        /(localhost|127\.0\.0\.1):(4000|4100|4200|4400)\b/g,
        (_all, host: string, port: string) => `${host}:${platform.base + PORT_OFFSETS[port]}`,
      )
      .replaceAll(SHOWN_SAGA_ID, sagaId);

  /** Runs one block in bash in the session folder, with the variables earlier blocks set. */
  function run(block: FencedBlock): string {
    const keep = `{ for v in ${CARRIED.join(' ')}; do [ -n "\${!v:-}" ] && declare -p "$v"; done; true; } > .carried`;
    const script = `set -euo pipefail\n[ -f .carried ] && source .carried\n${asOnThePlatform(block.body)}\n${keep}`;
    return execFileSync('bash', ['-c', script], { cwd: session, encoding: 'utf8', timeout: 30_000 });
  }

  /** The saga the guide placed has ended: the guide's subscriber joins after the end and sees it as its snapshot. */
  async function sagaEnded(): Promise<void> {
    const token = await platformToken(platform.base, 'u1');
    await eventually(async () => {
      const { body } = await postGraphQL<{ saga: { state: string } }>(
        platform.gatewayUrl,
        `{ saga(id: "${sagaId}") { state } }`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(body.data?.saga.state).toBe('COMPLETED');
    }, 30_000);
  }

  it.each(['docs/bff.md', 'docs/clients.md'])(
    '%s: every shell block gives the answer the guide shows',
    async (doc) => {
      const ran: number[] = [];
      for (const { block, shown } of steps(doc)) {
        if (block.body.includes('sagaStatus')) await sagaEnded();
        const output = run(block);
        ran.push(block.line);
        if (block.body.includes('placeOrder'))
          sagaId = (JSON.parse(output) as { data: { placeOrder: { sagaId: string } } }).data.placeOrder.sagaId;
        if (shown) expectOutput(output, { ...shown, body: asOnThePlatform(shown.body) });
        else expect([block.line, output]).toEqual([block.line, '']);
      }
      expect(ran).toEqual(
        fencedBlocks(readDoc(doc))
          .filter((block) => SHELL.has(block.language))
          .map((block) => block.line),
      );
    },
    180_000,
  );
});
