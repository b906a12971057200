/**
 * docs/performance.md's entity cache section quotes the realistic mix as test/bench/RESULTS.md
 * recorded it: each row's req/s, p99, gateway and subgraph CPU, and the staleness window.
 */
import { readDoc } from '../../support/markdown';

const performance = readDoc('docs/performance.md');
const start = performance.indexOf('## Entity cache');
const section = performance.slice(start, performance.indexOf('\nSagas (', start));
// The entity cache's own run (its section of RESULTS.md), not the full gateway run above it.
const allResults = readDoc('test/bench/RESULTS.md');
const results = allResults.slice(allResults.indexOf('<!-- bench:gateway-ecache:start -->'), allResults.indexOf('<!-- bench:gateway-ecache:end -->'));
const cells = (line: string) => line.split('|').slice(1, -1).map((cell) => cell.trim());

describe("performance.md's entity cache section", () => {
  it("quotes each target's mix row as RESULTS.md recorded it", () => {
    const quoted = section.split('\n').filter((line) => /^\| [a-z-]+ \| \d/.test(line)).map(cells);
    expect(quoted.map(([target]) => target)).toEqual(['apollo', 'apollo-undici', 'trellis', 'trellis-ecache', 'trellis-ecache-entities', 'trellis-ecache-shadow', 'hive-cache']);
    const mix = new Map(results.split('\n').filter((line) => /^\| [a-z-]+ +\| mix +\|/.test(line)).map((line) => { const row = cells(line); return [row[0], row]; }));
    for (const [target, rate, p99, cpu, subgraphsCpu] of quoted) {
      // target, query, req/s, p50, p99, RSS, CPU µs/req, subgraphs CPU µs/req
      const row = mix.get(target)!;
      expect([target, rate, p99, cpu, subgraphsCpu]).toEqual([row[0], row[2], row[4], row[6], row[7]]);
    }
  });

  it('quotes the ratios and the staleness window RESULTS.md recorded', () => {
    const mixRow = (target: string) => cells(results.split('\n').find((line) => new RegExp(`^\\| ${target} +\\| mix +\\|`).test(line))!);
    const ecache = mixRow('trellis-ecache');
    // ×apollo, ×apollo-undici at columns 8 and 9.
    expect(section).toContain(`${ecache[9]} Apollo with the undici fetcher, ${ecache[8]} plain Apollo`);
    const hiveCache = mixRow('hive-cache');
    expect(section).toContain(`${(Number(ecache[2]) / Number(hiveCache[2])).toFixed(2)}× Hive Gateway with its response cache`);
    expect(section).toContain(`CPU per request (${mixRow('apollo-undici')[6]} against ${ecache[6]} µs)`);
    expect(section).toContain(`${ecache[7]} µs of CPU per request against ${mixRow('apollo-undici')[7]}`);
    expect(section).toContain(`runs every query and gets ${mixRow('trellis-ecache-entities')[9]}`);
    // "the aim (3×) is met": the median and every round at 3× Apollo + undici or more.
    expect(Number(ecache[9].replace('×', ''))).toBeGreaterThanOrEqual(3);
    const byRound = (row: string[]) => (/req\/s by round ([\d /]+)/.exec(row[15]) ?? [])[1].split(' / ').map(Number);
    const [ecacheRounds, undiciRounds] = [byRound(ecache), byRound(mixRow('apollo-undici'))];
    expect(ecacheRounds).toHaveLength(3);
    expect(section).toContain(`its slowest round (${Math.min(...ecacheRounds)} req/s) above Apollo + undici's fastest\n(${Math.max(...undiciRounds)})`);
    expect(Math.min(...ecacheRounds)).toBeGreaterThan(Math.max(...undiciRounds));
    const staleness = (target: string) => cells(results.split('\n').find((line) => new RegExp(`^\\| ${target} +\\| (its change feed|TTL only)`).test(line))!);
    const [, , , , p50, p99] = staleness('trellis-ecache');
    expect(section).toContain(`p50 ${p50} ms, p99 ${p99} ms`);
    const [, , , , hiveP50, hiveP99] = staleness('hive-cache');
    expect(section).toContain(`p50 ${(Number(hiveP50) / 1000).toFixed(1)} s, p99 ${(Number(hiveP99) / 1000).toFixed(1)} s`);
  });
});
