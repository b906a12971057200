/**
 * docs/operators.md's Redis section: the hash tags it says the example participants use are theirs,
 * the tests it names exist, and the durability costs it quotes are rows test/bench/RESULTS.md
 * recorded (the bench's own run and the second run beside it).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readDoc, REPO_ROOT } from '../../support/markdown';
import { STOCK_SLOT } from '../../../subgraphs/catalog/inventory';
import { ORDERS_SLOT } from '../../../subgraphs/orders/orderBook';
import { paymentSlot } from '../../../subgraphs/payments/ledger';

const operators = readDoc('docs/operators.md');
const start = operators.indexOf('### Redis: Sentinel, Cluster and durability');
const section = operators.slice(start, operators.indexOf('\n### ', start + 1));
const results = readDoc('test/bench/RESULTS.md');

describe("operators.md's Redis section", () => {
  it("names the example participants' hash tags as the code has them", () => {
    expect(section).toContain(`all stock shares \`${STOCK_SLOT}\``);
    expect(section).toContain(`the order book \`${ORDERS_SLOT}\``);
    expect(paymentSlot('<order id>')).toBe('{payment:<order id>}');
    expect(section).toContain('each payment `{payment:<order id>}`');
  });

  it('names tests that exist', () => {
    const named = [...section.matchAll(/`(test\/[\w/.-]+\.test\.ts)`/g)].map((match) => match[1]);
    expect(named).toEqual(expect.arrayContaining(['test/e2e/redisCluster.test.ts', 'test/integration/saga/placeOrderOnCluster.test.ts', 'test/integration/state/clusterFailover.test.ts']));
    for (const file of named) expect(existsSync(path.join(REPO_ROOT, file))).toBe(true);
  });

  it('quotes the durability costs test/bench/RESULTS.md recorded, ack 0 then 1, two runs', () => {
    const quoted = section
      .split('\n')
      .filter((line) => /^\| (1|20|50) \|/.test(line))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    expect(quoted.map((cells) => cells[0])).toEqual(['1', '20', '50']);
    // Each cell: "a → b, c → d", the first run then the second, each ack 0 → ack 1.
    const runs = (cell: string) => cell.replace(/ ms/g, '').split(', ').map((pair) => pair.split(' → '));
    const recorded = results.split('\n').filter((line) => /^\| (1|20|50) +\| [01] +\|/.test(line)).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    for (const [concurrency, sagas, p50, p99, cpu] of quoted) {
      for (const run of [0, 1]) {
        for (const ack of [0, 1]) {
          const expected = [runs(sagas)[run][ack], runs(p50)[run][ack], runs(p99)[run][ack], runs(cpu)[run][ack]];
          // concurrency, ack, sagas/s, p50, p99, errors, 3 ratios, Redis CPU
          const row = recorded.filter((cells) => cells[0] === concurrency && cells[1] === String(ack)).map((cells) => [cells[2], cells[3], cells[4], cells[9]]);
          expect(row).toContainEqual(expected);
        }
      }
    }
  });
});
