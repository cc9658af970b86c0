#!/usr/bin/env node
// An installed package carries only the build (package.json "files": dist/, no sources) and runs
// it. A checkout has the TypeScript sources beside this file and runs them through tsx (Node 20 has
// no type stripping), even when a dist/ is there: dist/ is only as fresh as the last build, and what
// runs in a checkout (tests, `npm start`, a developer's edit) must be what was edited.
import { existsSync } from 'node:fs';

const source = new URL('../cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv);
