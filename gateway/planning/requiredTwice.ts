/**
 * The post-planning rewrite for one field required twice with different arguments
 * (`usd @requires(fields: "price(currency: USD)")` and `eur @requires(fields: "price(currency: EUR)")`).
 * Apollo's planner fetches `price` once, with the later arguments, for both. The rewrite splits the
 * entity fetch that needs them into one fetch per argument variant, each preceded by a fetch of
 * `price` with that variant's arguments, in sequence, so each representation carries its own value.
 * (In sequence rather than side by side under aliases: Apollo's `KeyRenamer` input rewrite skips
 * falsy values, so a price of 0 renamed from an alias would vanish.) Where the plan cannot be
 * rewritten so (no subgraph can serve the field by a key the representation carries), the operation
 * is refused with a clear error rather than answered with wrong data. Once split, the variants
 * other fetches ask side by side for the same field (an unconditional `price(currency: EUR)` beside
 * a `price(currency: USD)` under `@include`) are one too many: each is fetched again before the
 * fetch that needs it, and together they fail the subgraph's validation
 * (`redundantVariants.ts`). Plans without such a fetch are returned as they are (the same object).
 */
import { Kind, parse, print, visit, type DocumentNode, type FieldNode, type InlineFragmentNode, type OperationDefinitionNode } from 'graphql';
import type { FetchNode, PlanNode, QueryPlan, QueryPlanSelectionNode } from '@apollo/query-planner';
import type { RequiresIndex } from './requiresIndex';
import { QueryPlanningError } from './planningError';
import { dropRedundantVariants, type Split } from './redundantVariants';

export function splitRequiredTwice(plan: QueryPlan, index: RequiresIndex): QueryPlan {
  if (index.isEmpty || !plan.node) return plan;
  const split: Split = { conflicts: [], made: new WeakSet() };
  if (plan.node.kind === 'Subscription') {
    const rest = plan.node.rest && rewriteNode(plan.node.rest, index, split);
    if (split.conflicts.length === 0) return plan;
    const primary = dropRedundantVariants(plan.node.primary, split) as FetchNode;
    return { ...plan, node: { ...plan.node, primary, rest: rest && dropRedundantVariants(rest, split) } };
  }
  const rewritten = rewriteNode(plan.node, index, split);
  const node = split.conflicts.length === 0 ? rewritten : dropRedundantVariants(rewritten, split);
  return node === plan.node ? plan : { ...plan, node };
}

function rewriteNode(node: PlanNode, index: RequiresIndex, split: Split): PlanNode {
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel': {
      const nodes = node.nodes.map((child) => rewriteNode(child, index, split));
      return nodes.every((child, i) => child === node.nodes[i]) ? node : { ...node, nodes };
    }
    case 'Flatten': {
      if (node.node.kind !== 'Fetch') {
        const inner = rewriteNode(node.node, index, split);
        return inner === node.node ? node : { ...node, node: inner };
      }
      const fetches = splitFetch(node.node, index, split);
      return fetches ? { kind: 'Sequence', nodes: fetches.map((fetch) => ({ ...node, node: fetch })) } : node;
    }
    case 'Condition': {
      const ifClause = node.ifClause && rewriteNode(node.ifClause, index, split);
      const elseClause = node.elseClause && rewriteNode(node.elseClause, index, split);
      return ifClause === node.ifClause && elseClause === node.elseClause ? node : { ...node, ifClause, elseClause };
    }
    case 'Defer':
    case 'Fetch':
      return node;
  }
}

export interface Conflict {
  typeName: string;
  field: string;
  /** printed arguments → the requiring fields needing that variant. */
  variants: Map<string, string[]>;
}

/** The fetches that replace `fetch`, in order (recorded in `split`), or undefined when it needs no split. */
function splitFetch(fetch: FetchNode, index: RequiresIndex, split: Split): FetchNode[] | undefined {
  if (!fetch.requires) return undefined;
  const document = parse(fetch.operation);
  const conflicts = conflictsIn(document, fetch.serviceName, index);
  if (conflicts.length === 0) return undefined;
  if (conflicts.length > 1 || conflicts.some((c) => c.variants.size < 2)) refuse(conflicts[0], 'more than one field is required with several argument variants');
  const [conflict] = conflicts;
  const source = sourceOf(conflict, fetch, index);
  const variants = [...conflict.variants.entries()];
  const conflicting = new Set(variants.flatMap(([, fields]) => fields));
  const fetches = variants.flatMap(([printedArguments, fields], i) => [
    variantFetch(source, conflict, printedArguments, `${fetch.operationName ?? 'Trellis'}_requires${i}`),
    restricted(fetch, document, conflict.typeName, (name) => fields.includes(name) || (i === 0 && !conflicting.has(name))),
  ]);
  split.conflicts.push(conflict);
  for (const made of fetches) split.made.add(made);
  return fetches;
}

function conflictsIn(document: DocumentNode, subgraph: string, index: RequiresIndex): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const fragment of entityFragments(document)) {
    const typeName = fragment.typeCondition?.name.value;
    if (!typeName) continue;
    const selected = new Set(fragment.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD).map((f) => f.name.value));
    const byField = new Map<string, Map<string, string[]>>();
    for (const requirement of index.on(typeName)) {
      if (requirement.subgraph !== subgraph || !selected.has(requirement.field)) continue;
      for (const needed of requirement.selects) {
        const variants = byField.get(needed.name) ?? new Map<string, string[]>();
        variants.set(needed.printedArguments, [...(variants.get(needed.printedArguments) ?? []), requirement.field]);
        byField.set(needed.name, variants);
      }
    }
    for (const [field, variants] of byField) if (variants.size > 1) conflicts.push({ typeName, field, variants });
  }
  return conflicts;
}

/** A subgraph that resolves the field, by a key whose fields the representation already carries. */
function sourceOf(conflict: Conflict, fetch: FetchNode, index: RequiresIndex): { subgraph: string; key: string[] } {
  const carried = new Set(
    (fetch.requires ?? [])
      .filter((s): s is Extract<QueryPlanSelectionNode, { kind: 'InlineFragment' }> => s.kind === 'InlineFragment' && s.typeCondition === conflict.typeName)
      .flatMap((s) => s.selections.filter((f) => f.kind === 'Field' && !f.selections).map((f) => (f as { name: string }).name)),
  );
  const keys = index.ownership.keys.get(conflict.typeName);
  for (const subgraph of index.ownership.fields.get(`${conflict.typeName}.${conflict.field}`) ?? []) {
    for (const key of keys?.get(subgraph) ?? []) {
      const fields = key.trim().split(/\s+/);
      if (!key.includes('{') && fields.every((f) => carried.has(f))) return { subgraph, key: fields };
    }
  }
  refuse(conflict, `no subgraph serves ${conflict.typeName}.${conflict.field} by a key the entity fetch carries`);
}

function variantFetch(source: { subgraph: string; key: string[] }, conflict: Conflict, printedArguments: string, operationName: string): FetchNode {
  const operation = `query ${operationName}($representations:[_Any!]!){_entities(representations:$representations){...on ${conflict.typeName}{${conflict.field}${printedArguments}}}}`;
  return {
    kind: 'Fetch',
    serviceName: source.subgraph,
    requires: [{ kind: 'InlineFragment', typeCondition: conflict.typeName, selections: [{ kind: 'Field', name: '__typename' }, ...source.key.map((name) => ({ kind: 'Field' as const, name }))] }],
    variableUsages: [],
    operation,
    operationName,
    operationKind: 'query' as FetchNode['operationKind'],
    inputRewrites: [],
    outputRewrites: [],
  };
}

/** `fetch` asking, on `typeName`, only the fields `keep` accepts; unused variables dropped. */
function restricted(fetch: FetchNode, document: DocumentNode, typeName: string, keep: (field: string) => boolean): FetchNode {
  const narrowed = visit(document, {
    InlineFragment(fragment) {
      if (fragment.typeCondition?.name.value !== typeName) return undefined;
      const selections = fragment.selectionSet.selections.filter((s) => s.kind !== Kind.FIELD || s.name.value === '__typename' || keep(s.name.value));
      return { ...fragment, selectionSet: { ...fragment.selectionSet, selections } };
    },
  });
  return withOperation(fetch, narrowed);
}

/** `fetch` sending `document` instead, its variables narrowed to those the selections still use. */
export function withOperation(fetch: FetchNode, document: DocumentNode): FetchNode {
  const operation = document.definitions[0] as OperationDefinitionNode;
  // Only the selections use a variable: a definition left without a use fails the subgraph's validation (NoUnusedVariables).
  const used = new Set<string>();
  visit(operation.selectionSet, { Variable: (variable) => void used.add(variable.name.value) });
  const definitions = (operation.variableDefinitions ?? []).filter((v) => used.has(v.variable.name.value) || v.variable.name.value === 'representations');
  const printed = print({ ...document, definitions: [{ ...operation, variableDefinitions: definitions }] });
  return { ...fetch, operation: printed, variableUsages: fetch.variableUsages?.filter((name) => used.has(name)), operationDocumentNode: undefined };
}

function entityFragments(document: DocumentNode): InlineFragmentNode[] {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const entities = operation?.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === '_entities');
  return (entities?.selectionSet?.selections ?? []).filter((s): s is InlineFragmentNode => s.kind === Kind.INLINE_FRAGMENT);
}

function refuse(conflict: Conflict, why: string): never {
  const variants = [...conflict.variants.entries()].map(([args, fields]) => `${conflict.field}${args} for ${fields.join(', ')}`).join('; ');
  throw new QueryPlanningError(`the operation cannot be planned unambiguously: ${conflict.typeName} requires ${variants}, and ${why}`);
}
