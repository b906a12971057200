/**
 * ESLint rule `trellis/kit-imports`: the kit (the repo's top-level `shared/`, the package `@trellis/kit`)
 * is reached only through its entry points. A file outside `shared/` that imports it by a relative path
 * fails; a file in `subgraphs/` or `bff/` that imports anything but the documented entry points fails.
 * A local rule rather than `no-restricted-imports` because only a resolved path tells the kit's
 * `shared/` from `bff/shared/`. Option: `{ root }`, the repository's absolute path.
 */
'use strict';
const path = require('node:path');

const PACKAGE = '@trellis/kit';
/** What subgraph and BFF authors may import (docs/ documents each); the rest is platform-internal. */
const DOCUMENTED = [PACKAGE, `${PACKAGE}/saga`, `${PACKAGE}/testing`, `${PACKAGE}/bff`];
/** Kit modules that are themselves an entry point, by their path under shared/. */
const ENTRY_OF_MODULE = { '': PACKAGE, index: PACKAGE, saga: `${PACKAGE}/saga`, testing: `${PACKAGE}/testing`, bff: `${PACKAGE}/bff`, internal: `${PACKAGE}/internal` };
const REQUIRE_LIKE = new Set(['require', 'jest.mock', 'jest.doMock', 'jest.unmock', 'jest.requireActual', 'jest.requireMock']);

/** The file's part of the repository (`gateway`, `subgraphs`, ...), or undefined when outside it. */
function partOf(root, filename) {
  const relative = path.relative(root, filename);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep)[0];
}

/** The entry point that names exactly this kit module, where one does (`shared/logging` -> `@trellis/kit/internal/logging`). */
function entryFor(moduleUnderKit, part) {
  const entry = ENTRY_OF_MODULE[moduleUnderKit];
  if (entry) return part === 'subgraphs' || part === 'bff' ? (DOCUMENTED.includes(entry) ? entry : undefined) : entry;
  // Subgraphs and BFFs may not use internal modules; which documented entry has the names is theirs to say.
  if (part === 'subgraphs' || part === 'bff') return undefined;
  return `${PACKAGE}/internal/${moduleUnderKit}`;
}

function calleeName(callee) {
  if (callee.type === 'Identifier') return callee.name;
  if (callee.type === 'MemberExpression' && callee.object.type === 'Identifier' && callee.property.type === 'Identifier') return `${callee.object.name}.${callee.property.name}`;
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
module.exports = {
  meta: {
    type: 'problem',
    fixable: 'code',
    docs: { description: 'Reach the kit (@trellis/kit) only through its entry points; subgraphs and BFFs only through the documented ones' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, required: ['root'], additionalProperties: false }],
    messages: {
      relative: "Import the kit through its package, not by a relative path into shared/: '{{suggestion}}'.",
      undocumented: "'{{source}}' is not a documented entry point of the kit; subgraphs and BFFs use only " + DOCUMENTED.map((e) => `'${e}'`).join(', ') + '.',
    },
  },
  create(context) {
    const root = path.resolve(context.options[0].root);
    const filename = context.filename;
    const part = partOf(root, filename);
    if (part === undefined || part === 'shared') return {};
    const kit = path.join(root, 'shared');

    function check(literal) {
      if (!literal || literal.type !== 'Literal' || typeof literal.value !== 'string') return;
      const source = literal.value;
      if (source.startsWith('.')) {
        const target = path.resolve(path.dirname(filename), source);
        if (target !== kit && !target.startsWith(kit + path.sep)) return;
        const moduleUnderKit = path.relative(kit, target).split(path.sep).join('/').replace(/\/index$/, '');
        const entry = entryFor(moduleUnderKit, part);
        const quote = literal.raw[0];
        context.report({
          node: literal,
          messageId: 'relative',
          data: { suggestion: entry ?? DOCUMENTED.join("' or '") },
          fix: entry ? (fixer) => fixer.replaceText(literal, `${quote}${entry}${quote}`) : null,
        });
      } else if ((part === 'subgraphs' || part === 'bff') && (source === PACKAGE || source.startsWith(`${PACKAGE}/`)) && !DOCUMENTED.includes(source)) {
        context.report({ node: literal, messageId: 'undocumented', data: { source } });
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      // typescript-eslint 8 names the string `source` (`argument`, a TSLiteralType, is deprecated).
      TSImportType: (node) => check(node.source ?? (node.argument && node.argument.literal)),
      CallExpression: (node) => {
        if (REQUIRE_LIKE.has(calleeName(node.callee))) check(node.arguments[0]);
      },
    };
  },
};
