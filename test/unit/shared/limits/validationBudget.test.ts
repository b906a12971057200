import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { VALIDATION_ABORTED_MESSAGE, validationBudgetError } from '@trellis/kit/internal/limits/validationBudget';

const schema = buildSchema('type Query { users: [User!]! } type User { name: String }');
const repeated = `{ users { ${'name '.repeat(1990)}} }`;

describe('validation budget', () => {
  it("stops graphql's validation of a field repeated as often as MAX_TOKENS allows, with one error", () => {
    const errors = validate(schema, parse(repeated), specifiedRules);
    expect(errors.map((error) => error.message)).toEqual([VALIDATION_ABORTED_MESSAGE]);
    // Fewer repeats are compared in full, and pass.
    expect(validate(schema, parse(`{ users { ${'name '.repeat(300)}} }`), specifiedRules)).toEqual([]);
  });

  it('says why validation stopped, keeping the code', () => {
    const [error] = validate(schema, parse(repeated), specifiedRules);
    expect(validationBudgetError({ ...error!.toJSON(), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })).toEqual({
      message: 'validation stopped: the operation repeats the same fields more often than graphql-js compares them (its overlapping-fields budget); select each field once',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });

  it('leaves every other error as it is', () => {
    const other = { message: 'Cannot query field "nope" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    expect(validationBudgetError(other)).toBe(other);
    const sameText = { message: VALIDATION_ABORTED_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    expect(validationBudgetError(sameText)).toBe(sameText);
    const noExtensions = { message: VALIDATION_ABORTED_MESSAGE };
    expect(validationBudgetError(noExtensions)).toBe(noExtensions);
  });
});
