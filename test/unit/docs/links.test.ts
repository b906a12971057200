/**
 * Every relative link and image in README.md and docs/ leads somewhere: the file exists, and an
 * anchor (`file.md#heading` or `#heading`) names a heading of that file.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { documentationFiles, headingAnchors, markdownLinks, readDoc, REPO_ROOT } from '../../support/markdown';

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const link of markdownLinks(readDoc(file))) {
    if (isExternal(link.target)) continue;
    const [pathPart, anchor] = link.target.split('#', 2) as [string, string | undefined];
    const target =
      pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(pathPart)));
    const where = `${file}:${link.line} ${link.target}`;
    if (target.startsWith('..') || !existsSync(path.join(REPO_ROOT, target))) {
      broken.push(`${where}: no file ${target}`);
      continue;
    }
    if (link.image && statSync(path.join(REPO_ROOT, target)).size === 0) broken.push(`${where}: empty image`);
    if (anchor !== undefined) {
      if (!target.endsWith('.md')) broken.push(`${where}: an anchor into a file that is not Markdown`);
      else if (!headingAnchors(readDoc(target)).has(anchor))
        broken.push(`${where}: no heading #${anchor} in ${target}`);
    }
  }
  return broken;
}

describe('links in README.md and docs/', () => {
  it('finds the documentation: the README and the guides', () => {
    expect(documentationFiles()).toEqual(
      expect.arrayContaining(['README.md', 'docs/clients.md', 'docs/operators.md', 'docs/subgraph-authors.md']),
    );
  });

  it.each(documentationFiles())('%s: every relative link and image resolves to a file and heading', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});

describe('the link checker', () => {
  it('makes the anchors GitHub makes', () => {
    const anchors = headingAnchors(
      '# Trellis\n## Sagas: placeOrder over Kafka, watched live\n### Traces (OpenTelemetry)\n```bash\n# not a heading\n```\n## Sagas: placeOrder over Kafka, watched live\n',
    );
    expect([...anchors]).toEqual([
      'trellis',
      'sagas-placeorder-over-kafka-watched-live',
      'traces-opentelemetry',
      'sagas-placeorder-over-kafka-watched-live-1',
    ]);
  });

  it('reads links and images outside code only', () => {
    const links = markdownLinks(
      'see [a](docs/a.md#x) and ![p](docs/p.png) but not `[b](c.md)`\n```md\n[d](e.md)\n```\n',
    );
    expect(links).toEqual([
      { target: 'docs/a.md#x', line: 1, image: false },
      { target: 'docs/p.png', line: 1, image: true },
    ]);
  });
});
