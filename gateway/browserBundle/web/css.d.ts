/** CSS imported by browser code is bundled by esbuild; to TypeScript it is a side-effect import. */
declare module '*.css';
