import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import kitImports from './scripts/lint/kitImports.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'shared/dist/**', 'coverage/**', 'reports/**', '.stryker-tmp/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read the environment only in shared/config.' },
      ],
    },
  },
  {
    // The kit only through its entry points (scripts/lint/kitImports.js); subgraphs and BFFs only the documented ones.
    plugins: { trellis: { rules: { 'kit-imports': kitImports } } },
    rules: { 'trellis/kit-imports': ['error', { root: import.meta.dirname }] },
  },
  {
    files: ['shared/config/**', 'scripts/**', 'test/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
