/**
 * What a PromQL expression reads, found with Prometheus's own grammar (@prometheus-io/lezer-promql):
 * the metric names it selects, the labels it matches on and the labels each `by (...)` groups on,
 * with the metrics under that aggregation. Grafana's built-in interval variables are replaced first.
 */
import type { LRParser } from '@lezer/lr' with { 'resolution-mode': 'import' };

// The package is an ES module with a CommonJS build; its types are declared for `import` only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require('@prometheus-io/lezer-promql') as { parser: LRParser };
type SyntaxNode = ReturnType<LRParser['parse']>['topNode'];

export interface PromqlReads {
  metrics: string[];
  /** `{label="..."}` matchers, with the metric they filter. */
  matchers: Array<{ metric: string; label: string; value: string }>;
  /** `sum by (a, b) (...)` and the like: the labels grouped on and the metrics aggregated. */
  groupings: Array<{ labels: string[]; metrics: string[] }>;
}

/** Grafana's interval variables, as Grafana replaces them before it sends a query. */
const GRAFANA_INTERVALS = /\$(__rate_interval|__interval|__range)\b/g;

export function readPromql(expr: string): PromqlReads {
  const text = expr.replace(GRAFANA_INTERVALS, '5m');
  if (text.includes('$')) throw new Error(`unknown dashboard variable in ${expr}`);
  const tree = parser.parse(text);
  const errors: number[] = [];
  tree.iterate({ enter: (node) => void (node.type.isError && errors.push(node.from)) });
  if (errors.length > 0) throw new Error(`PromQL syntax error at ${errors[0]} in ${expr}`);

  const slice = (node: SyntaxNode | null) => (node ? text.slice(node.from, node.to) : '');
  const metricsUnder = (top: SyntaxNode): string[] => {
    const found: string[] = [];
    const cursor = top.cursor();
    do {
      if (cursor.name === 'VectorSelector') {
        const name = cursor.node.getChild('Identifier');
        if (name) found.push(slice(name));
      }
    } while (cursor.next() && cursor.from < top.to);
    return found;
  };

  const reads: PromqlReads = { metrics: metricsUnder(tree.topNode), matchers: [], groupings: [] };
  tree.iterate({
    enter: (ref) => {
      const node = ref.node;
      if (node.name === 'VectorSelector') {
        const metric = slice(node.getChild('Identifier'));
        for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
          reads.matchers.push({ metric, label: slice(matcher.getChild('LabelName')), value: JSON.parse(slice(matcher.getChild('StringLiteral'))) as string });
        }
      }
      const modifier = node.name === 'AggregateExpr' ? node.getChild('AggregateModifier') : null;
      if (modifier?.getChild('By')) {
        const labels = (modifier.getChild('GroupingLabels')?.getChildren('LabelName') ?? []).map(slice);
        reads.groupings.push({ labels, metrics: metricsUnder(node.getChild('FunctionCallBody')!) });
      }
    },
  });
  return reads;
}
