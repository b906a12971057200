/**
 * Writes test/MUTATION.md from Stryker's JSON report: the mutation score of each core module
 * (killed + timed out over all valid mutants, the way Stryker counts it), with the date and commit.
 * Only files that exist and are in stryker.config.mjs's `mutate` count: the incremental report keeps
 * the results of files once mutated and since moved or left out of scope (network adapters).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const MODULES = [
  'shared/saga',
  'shared/retry',
  'shared/events/delivery.ts',
  'shared/resilience',
  'shared/auth',
  'gateway/limits',
  'shared/limits',
  'gateway/auth',
  'gateway/datasource',
  'gateway/supergraph',
  'bff/shared',
  'shared/ratelimit',
  'gateway/ratelimit',
  'gateway/headers',
  'gateway/planning',
  'shared/discovery',
  'shared/state',
  'gateway/persisted',
  'shared/config',
  'shared/subgraph',
  'gateway/subscriptions',
  'gateway/incremental',
  'gateway/entityCache',
  'shared/events/changeAnnouncer.ts',
  'shared/events/entityChange.ts',
];
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

interface Report {
  files: Record<string, { mutants: Array<{ status: string }> }>;
}

/** Stryker's rule: patterns in order, a `!` pattern taking out what the ones before it put in. */
function inScope(file: string, patterns: readonly string[]): boolean {
  let included = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (path.matchesGlob(file, pattern.slice(1))) included = false;
    } else if (path.matchesGlob(file, pattern)) included = true;
  }
  return included;
}

async function main(): Promise<void> {
  const { default: strykerConfig } = (await import(path.join(ROOT, 'stryker.config.mjs'))) as {
    default: { mutate: string[] };
  };
  const report = JSON.parse(readFileSync(path.join(ROOT, 'reports/mutation/mutation.json'), 'utf8')) as Report;
  const rows = MODULES.map((module) => {
    let detected = 0;
    let undetected = 0;
    let ignored = 0;
    for (const [file, { mutants }] of Object.entries(report.files)) {
      const relative = path.relative(ROOT, path.resolve(ROOT, file));
      if (relative !== module && !relative.startsWith(`${module}/`)) continue;
      // Files moved or deleted since they were mutated stay in the incremental report: skip them.
      if (!inScope(relative, strykerConfig.mutate) || !existsSync(path.join(ROOT, relative))) continue;
      for (const { status } of mutants) {
        if (DETECTED.has(status)) detected += 1;
        else if (UNDETECTED.has(status)) undetected += 1;
        else if (status === 'Ignored') ignored += 1;
      }
    }
    const total = detected + undetected;
    return { module, detected, undetected, ignored, score: total === 0 ? null : (100 * detected) / total };
  });

  // The hand-written notes (from `## Notes` on) say what the numbers alone cannot; they are kept.
  const target = path.join(ROOT, 'test/MUTATION.md');
  const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
  const notes = previous.includes('\n## Notes') ? previous.slice(previous.indexOf('\n## Notes') + 1) : '';
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  const lines = [
    '# Mutation scores of the core modules',
    '',
    `\`npm run test:mutation\` (Stryker, against the unit tests), ${new Date().toISOString().slice(0, 10)}, commit ${commit}. The floor is 80%.`,
    '',
    '| module | killed | survived or uncovered | score | ignored |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| \`${row.module}\` | ${row.detected} | ${row.undetected} | ${row.score === null ? 'not run' : `${row.score.toFixed(1)}%`} | ${row.ignored} |`,
    ),
    '',
    ...(notes ? [notes.trimEnd(), ''] : []),
  ];
  writeFileSync(target, lines.join('\n'));
  process.stdout.write(lines.join('\n'));
}

void main();
