#!/usr/bin/env node
// The `trellis` bin. Installed from the package it runs the compiled CLI (dist/); in the Trellis
// repository, where the TypeScript sources sit beside it and are never shipped, it runs them
// through tsx, so `npx trellis` there needs no build and never runs a stale one.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

const source = path.join(__dirname, '..', 'cli', 'main.ts');
if (existsSync(source)) require('tsx/cjs/api').require(source, __filename);
else require('../dist/cli/main.js');
