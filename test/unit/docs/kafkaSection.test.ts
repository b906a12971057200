/**
 * The README's Kafka section: its secured configuration is the one docs/operators.md shows (which
 * test/unit/shared/config/kafka.test.ts loads and test/cluster/kafka.test.ts runs on the secured
 * cluster), its default client is the config's, and the figures it quotes are the recorded ones.
 */
import { fencedBlocks, readDoc } from '../../support/markdown';
import { securedExample } from '../../support/cluster';
import { loadConfig } from '@trellis/kit/internal/config';
import { KAFKA_CLIENTS } from '@trellis/kit/internal/events';

const readme = readDoc('README.md');
const section = readme.slice(readme.indexOf('## Kafka'), readme.indexOf('\n## ', readme.indexOf('## Kafka') + 1));

describe("the README's Kafka section", () => {
  it('shows the secured configuration operators.md shows and the cluster test runs', () => {
    const yaml = fencedBlocks(section).filter((block) => block.language === 'yaml');
    expect(yaml).toHaveLength(1);
    expect(yaml[0].body).toBe(securedExample());
  });

  it('names every client, and kafkajs as the default the config gives', () => {
    expect(loadConfig({}).kafka.client).toBe('kafkajs');
    expect(section).toContain('`KAFKA_CLIENT=kafkajs` (the default)');
    for (const client of KAFKA_CLIENTS) expect(section).toContain(`\`${client === 'kafkajs' ? 'KAFKA_CLIENT=kafkajs' : client}\``);
  });

  it('quotes saga bench figures recorded in test/bench/RESULTS.md', () => {
    const results = readDoc('test/bench/RESULTS.md');
    const quoted = [...section.matchAll(/(\d+\.\d) sagas\/s|did (\d+\.\d)/g)].map((match) => match[1] ?? match[2]);
    expect(quoted).toEqual(['72.4', '26.9']);
    const row = (client: string) => results.split('\n').find((line) => line.startsWith(`| 7, after item 4 | ${client} |`)) ?? '';
    expect(row('kafkajs')).toContain('| 72.4 |');
    expect(row('platformatic')).toContain('| 26.9 |');
  });
});
