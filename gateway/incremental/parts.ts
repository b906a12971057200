/**
 * A query plan with Defer nodes, as the parts a client receives: the primary part (the plan with
 * every Defer replaced by its primary) and the tree of deferred parts, each with its own fetches,
 * the selection it answers and where. Condition nodes (`@defer(if: $var)`) are decided here, with
 * the request's variables, so a Defer that does not apply never becomes a part.
 */
import type { DeferNode, DeferredNode, PlanNode } from '@apollo/query-planner';

export interface DeferredPart {
  /** The client's label, when it gave one. */
  label?: string;
  /** Response keys from the root to the object the fragment applies to (`... on T` segments narrow by type; lists implied). */
  queryPath: string[];
  /** The fragment's selection, printed, relative to the type at `queryPath`; none when all of it is deferred further. */
  subselection?: string;
  /** Its own fetches (run once its parent's finished); none when its fields came with the parent's. */
  node?: PlanNode;
  /** Fragments deferred inside it, delivered after it. */
  children: DeferredPart[];
}

export interface PlanParts {
  /** The primary part's fetches. */
  node?: PlanNode;
  /** Whether anything is deferred: if not, the primary part is the whole operation. */
  hasDefer: boolean;
  /** The primary part's selection from the root, printed; none when all of it is deferred. */
  subselection?: string;
  deferred: DeferredPart[];
}

/** `holds(variable)`: the value of a `@defer(if: $variable)` / `@skip` / `@include` condition for this request. */
export function partsOf(node: PlanNode | undefined, holds: (variable: string) => boolean): PlanParts {
  return split(node, holds);
}

function split(node: PlanNode | undefined, holds: (variable: string) => boolean): PlanParts {
  if (!node) return { hasDefer: false, deferred: [] };
  switch (node.kind) {
    case 'Condition':
      return split(holds(node.condition) ? node.ifClause : node.elseClause, holds);
    case 'Sequence':
    case 'Parallel': {
      const children = node.nodes.map((child) => split(child, holds));
      const nodes = children.flatMap((child) => (child.node ? [child.node] : []));
      return {
        node: nodes.length === 0 ? undefined : { kind: node.kind, nodes },
        hasDefer: children.some((child) => child.hasDefer),
        subselection: children.find((child) => child.subselection)?.subselection,
        deferred: children.flatMap((child) => child.deferred),
      };
    }
    case 'Flatten': {
      const inner = split(node.node, holds);
      return { ...inner, node: inner.node && { ...node, node: inner.node } };
    }
    case 'Defer':
      return splitDefer(node, holds);
    default:
      return { node, hasDefer: false, deferred: [] };
  }
}

function splitDefer(node: DeferNode, holds: (variable: string) => boolean): PlanParts {
  const primary = split(node.primary.node, holds);
  return {
    node: primary.node,
    hasDefer: true,
    subselection: node.primary.subselection,
    deferred: [...primary.deferred, ...node.deferred.map((deferred) => partOf(deferred, holds))],
  };
}

function partOf(deferred: DeferredNode, holds: (variable: string) => boolean): DeferredPart {
  // A fragment with defers of its own plans as a Defer whose primary is the fragment itself.
  const inner = split(deferred.node, holds);
  return {
    ...optional('label', deferred.label),
    queryPath: deferred.queryPath,
    ...optional('subselection', deferred.subselection ?? inner.subselection),
    node: inner.node,
    children: inner.deferred,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [key in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [key in K]?: V };
}
