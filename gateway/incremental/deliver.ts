/**
 * Runs a plan with Defer nodes and delivers its parts: the primary first, then each deferred part
 * as soon as its own fetches finished (siblings run side by side; a nested fragment runs after its
 * parent was delivered).
 *
 * Chosen: each part runs through Apollo Gateway's own `executeQueryPlan` (option b of issue 32),
 * not a second plan runner. A part's plan is its ancestors' fetches replayed from the request's
 * journal (replay.ts) followed by its own, and its document (shaping.ts) makes Apollo's result
 * shaping answer just that part. Fetches, `@requires` representations, error paths, data rewrites
 * and breakers stay Apollo's and the gateway's code; Apollo Router runs a DeferredNode the same
 * way (its fetches against the data its `depends` produced, the answer shaped by its subselection).
 */
import type { DocumentNode, ExecutionResult, GraphQLError } from 'graphql';
import type { PlanNode } from '@apollo/query-planner';
import type { DeferredPart, PlanParts } from './parts';
import { replayed } from './replay';
import { valueAt, type PartShaping, type ResponsePath } from './shaping';
import type { Delivered, IncrementalPayload, Pending } from './payloads';

/** Runs `node` (undefined: no fetch of its own) and shapes the answer by `document` (undefined: the operation's own). */
export type RunPart = (node: PlanNode | undefined, document?: DocumentNode) => Promise<ExecutionResult>;

interface Group {
  part: DeferredPart;
  pending: Pending[];
  /** The fetches of the parts it sits in, from the primary down: replayed before its own. */
  ancestors: PlanNode[];
}

export async function* deliver(
  parts: PlanParts,
  shaping: PartShaping,
  runPart: RunPart,
): AsyncGenerator<IncrementalPayload> {
  let nextId = 0;
  const groupsOf = (children: DeferredPart[], positions: ResponsePath[][], ancestors: PlanNode[]): Group[] =>
    children.flatMap((part, index) => {
      const pending = positions[index]!.map((path) => ({
        id: String(nextId++),
        path,
        ...(part.label === undefined ? {} : { label: part.label }),
      }));
      return pending.length === 0 ? [] : [{ part, pending, ancestors }];
    });

  const result = await runPart(
    parts.node,
    parts.hasDefer ? shaping.primary(parts.subselection, parts.deferred) : undefined,
  );
  const primary = shaping.positions(result.data as Record<string, unknown> | null | undefined, parts.deferred);
  const base = parts.node ? [parts.node] : [];
  const running = new Map<Group, Promise<{ group: Group; delivered: Delivered[]; next: Group[] }>>();
  const start = (group: Group) => running.set(group, runGroup(group, shaping, runPart, groupsOf));
  const first = groupsOf(parts.deferred, primary.positions, base);
  first.forEach(start);
  yield {
    kind: 'initial',
    result: { ...result, data: primary.data },
    pending: first.flatMap((g) => g.pending),
    hasNext: running.size > 0,
  };

  while (running.size > 0) {
    const { group, delivered, next } = await Promise.race(running.values());
    running.delete(group);
    next.forEach(start);
    yield { kind: 'subsequent', delivered, pending: next.flatMap((g) => g.pending), hasNext: running.size > 0 };
  }
}

async function runGroup(
  group: Group,
  shaping: PartShaping,
  runPart: RunPart,
  groupsOf: (children: DeferredPart[], positions: ResponsePath[][], ancestors: PlanNode[]) => Group[],
) {
  const { part, pending, ancestors } = group;
  const nodes = [...ancestors.map(replayed), ...(part.node ? [part.node] : [])];
  const result = await runPart(nodes.length === 0 ? undefined : { kind: 'Sequence', nodes }, shaping.deferred(part));
  const shaped = shaping.positions(result.data as Record<string, unknown> | null | undefined, part.children);
  const errors = [...(result.errors ?? [])];
  const delivered = pending.map((one, index): Delivered => {
    const own = errors.filter(
      (error) => isWithin(error, one.path) || (index === 0 && !pending.some((other) => isWithin(error, other.path))),
    );
    const data = valueAt(shaped.data, one.path) ?? null;
    const failure = data === null ? completionErrors(result) : [];
    const all = [...own, ...failure];
    return { pending: one, data, ...(all.length > 0 ? { errors: all } : {}) };
  });
  // A child applies only where its parent was delivered.
  const next = groupsOf(part.children, shaped.positions, part.node ? [...ancestors, part.node] : ancestors);
  return { group, delivered, next };
}

function isWithin(error: GraphQLError, path: ResponsePath): boolean {
  return !!error.path && path.every((segment, index) => error.path![index] === segment);
}

/** Why a fragment's data is null when no fetch failed: Apollo's shaping reports a non-null field without a value in `extensions.valueCompletion`. */
function completionErrors(result: ExecutionResult): GraphQLError[] {
  const completion = result.extensions?.valueCompletion;
  return Array.isArray(completion) ? (completion as GraphQLError[]) : [];
}
