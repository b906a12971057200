/** The operation a request runs, and the value of a condition variable (`@defer(if: $v)`) for it. */
import { GraphQLBoolean, Kind, valueFromAST, type DocumentNode, type OperationDefinitionNode } from 'graphql';

export function operationOf(document: DocumentNode, operationName?: string): OperationDefinitionNode {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  // The checks already refused a document without the named operation.
  if (!operation) throw new Error(`no operation ${operationName ?? ''} in the document`);
  return operation;
}

/** The variable's value, else its default; validation made it a Boolean. */
export function conditionHolds(
  operation: OperationDefinitionNode,
  variable: string,
  variables: Record<string, unknown>,
): boolean {
  if (typeof variables[variable] === 'boolean') return variables[variable] as boolean;
  const definition = operation.variableDefinitions?.find((d) => d.variable.name.value === variable);
  return definition?.defaultValue ? valueFromAST(definition.defaultValue, GraphQLBoolean) === true : false;
}
