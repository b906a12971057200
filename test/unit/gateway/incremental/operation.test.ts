/** The operation a streamed request runs, and `@defer(if: $var)`'s value: the variable, else its default, else false. */
import { parse, type OperationDefinitionNode } from 'graphql';
import { conditionHolds, operationOf } from '../../../../gateway/incremental/execution';

describe('operationOf', () => {
  const document = parse('query A { a } query B { b } fragment F on Query { a }');

  it('the named operation, else the first', () => {
    expect(operationOf(document, 'B').name?.value).toBe('B');
    expect(operationOf(document).name?.value).toBe('A');
  });

  it('a name the document does not hold is refused by name', () => {
    expect(() => operationOf(document, 'C')).toThrow('no operation C in the document');
    expect(() => operationOf(parse('fragment F on Query { a }'))).toThrow('no operation  in the document');
  });
});

describe('conditionHolds', () => {
  const operation = parse('query Q($on: Boolean = true, $off: Boolean = false, $bare: Boolean) { a }')
    .definitions[0] as OperationDefinitionNode;

  it("the request's value wins over the default", () => {
    expect(conditionHolds(operation, 'on', { on: false })).toBe(false);
    expect(conditionHolds(operation, 'off', { off: true })).toBe(true);
  });

  it('no value: the default, else false', () => {
    expect(conditionHolds(operation, 'on', {})).toBe(true);
    expect(conditionHolds(operation, 'off', {})).toBe(false);
    expect(conditionHolds(operation, 'bare', {})).toBe(false);
    expect(conditionHolds(operation, 'undeclared', {})).toBe(false);
  });

  it('a value that is not a Boolean is not read as one', () => {
    expect(conditionHolds(operation, 'on', { on: 'false' })).toBe(true);
    expect(conditionHolds(operation, 'off', { off: 1 })).toBe(false);
  });
});
