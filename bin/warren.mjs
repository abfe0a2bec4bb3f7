#!/usr/bin/env node
// The `warren` command: runs the compiled build in dist/ (`npm run build` makes it).
// From a checkout without a build, `npm run dev -- <command>` runs the sources through tsx.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+ caches compiled modules between starts; Node 20 has no such cache and skips this.
module.enableCompileCache?.();

const entry = new URL('../dist/src/cli/warren.js', import.meta.url);
if (existsSync(entry)) {
  await import(entry.href);
} else {
  process.stderr.write('warren: no compiled build in dist/: run `npm run build` first (or `npm run dev -- <command>` to run the sources)\n');
  process.exitCode = 1;
}
