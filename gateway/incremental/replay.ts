/**
 * What lets each deferred part run through Apollo Gateway's own `executeQueryPlan` (which starts
 * from empty data): a part's plan is its ancestors' fetches, replayed, then its own. The journal
 * records every subgraph answer of the request; a replayed fetch answers from it (a copy, and
 * without its errors, which the part that made the fetch already reported), so no subgraph is
 * asked twice and every part sees the data its fetches depend on (entity keys, `@requires`).
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import type { PlanNode } from '@apollo/query-planner';

type Process = GraphQLDataSource['process'];
type Answer = Awaited<ReturnType<Process>>;

/** Service names of replayed fetches: a NUL cannot appear in a subgraph's name. */
const REPLAY = '\u0000replay:';

export class FetchJournal {
  private readonly answers = new Map<string, Promise<Pick<Answer, 'data'> | undefined>>();

  /** The real data sources, recording, and one replaying source per subgraph. */
  sources(real: Record<string, GraphQLDataSource>): Record<string, GraphQLDataSource> {
    const sources: Record<string, GraphQLDataSource> = {};
    for (const [name, source] of Object.entries(real)) {
      sources[name] = { process: (options) => this.record(name, source, options) };
      sources[REPLAY + name] = { process: (options) => this.replay(name, options) };
    }
    return sources;
  }

  private record(name: string, source: GraphQLDataSource, options: Parameters<Process>[0]): Promise<Answer> {
    const answer = source.process(options);
    // Kept as a copy: Apollo merges the answer into the part's data, and later merges change what it merged.
    this.answers.set(
      keyOf(name, options),
      answer.then(
        (received) => ({ data: structuredClone(received.data) }),
        () => undefined,
      ),
    );
    return answer;
  }

  private async replay(name: string, options: Parameters<Process>[0]): Promise<Answer> {
    const kept = this.answers.get(keyOf(name, options));
    // Never recorded (the part's ancestors ran with the same data, so this cannot happen): an error in
    // this part, never the call sent again, which could be a mutation's.
    if (!kept) throw new Error(`subgraph ${name}: a fetch of an earlier part was not recorded`);
    const answer = await kept;
    // A fetch that failed failed for its own part, which said so: here it brings no data and no error.
    return answer ? { data: structuredClone(answer.data) } : {};
  }
}

/** `node` with every fetch answered from the journal. */
export function replayed(node: PlanNode): PlanNode {
  switch (node.kind) {
    case 'Fetch':
      return { ...node, serviceName: REPLAY + node.serviceName };
    case 'Flatten':
      return { ...node, node: replayed(node.node) };
    case 'Sequence':
    case 'Parallel':
      return { ...node, nodes: node.nodes.map(replayed) };
    case 'Condition':
      return {
        ...node,
        ifClause: node.ifClause && replayed(node.ifClause),
        elseClause: node.elseClause && replayed(node.elseClause),
      };
    default:
      return node;
  }
}

function keyOf(name: string, options: Parameters<Process>[0]): string {
  return `${name}\u0000${options.request.query ?? ''}\u0000${JSON.stringify(options.request.variables ?? {})}`;
}
