/**
 * Reads a Prometheus text exposition for tests. A sample that is missing throws, naming what was
 * asked for: a renamed metric or label fails the test instead of reading as 0.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Series names → the label names seen on their samples. */
export type ExportedSeries = Map<string, Set<string>>;

/** The series an exposition offers: every declared metric (a histogram as `_bucket`, `_sum`, `_count`; a summary also bare), with the labels of its samples. */
export function exportedSeries(text: string): ExportedSeries {
  const series: ExportedSeries = new Map();
  const add = (name: string, labels: string[] = []) => series.set(name, new Set([...(series.get(name) ?? []), ...labels]));
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) add(name + suffix);
    else add(name);
  }
  for (const sample of parseSamples(text)) add(sample.name, Object.keys(sample.labels));
  return series;
}

async function matching(metricsUrl: string, name: string, labels: Record<string, string>): Promise<Sample[]> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`${metricsUrl} answered ${response.status}`);
  const found = parseSamples(await response.text()).filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (found.length === 0) throw new Error(`no sample of ${name}${JSON.stringify(labels)} at ${metricsUrl}`);
  return found;
}

/** The value of the one sample of `name` whose labels include `labels`; throws when there is none or several. */
export async function metricValue(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = await matching(metricsUrl, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}: name more labels`);
  return found[0].value;
}

/** The sum over every sample of `name` whose labels include `labels` (e.g. a histogram's `_count` across operations); throws when there is none. */
export async function metricSum(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return (await matching(metricsUrl, name, labels)).reduce((sum, sample) => sum + sample.value, 0);
}
