import type { Rule } from 'eslint';

/** The `trellis/kit-imports` rule (kitImports.js, plain CommonJS so eslint.config.mjs loads it without a build). */
declare const kitImports: Rule.RuleModule;
export = kitImports;
