/**
 * Jest 29 loads modules as CommonJS; @platformatic/kafka (and its two @platformatic helpers) ship
 * ES modules only. This transform turns them into CommonJS for jest alone (Node 24 itself requires
 * them as they are), with `import.meta.url` kept meaningful for the `createRequire` calls inside.
 */
const { transformSync } = require('esbuild');

module.exports = {
  process(source, path) {
    const { code, map } = transformSync(source, {
      loader: 'js',
      format: 'cjs',
      target: 'node24',
      sourcefile: path,
      sourcemap: true,
      define: { 'import.meta.url': '__esmModuleUrl' },
      banner: 'const __esmModuleUrl = require("node:url").pathToFileURL(__filename).href;',
    });
    return { code, map };
  },
};
