/** The operation's variables as the limits read them: the ones given, else each variable's literal numeric default. */
import { Kind, type OperationDefinitionNode } from 'graphql';

export function variablesWithDefaults(operation: OperationDefinitionNode, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...given };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const fallback = definition.defaultValue;
    if (out[name] === undefined && fallback && (fallback.kind === Kind.INT || fallback.kind === Kind.FLOAT)) out[name] = Number(fallback.value);
  }
  return out;
}
