#!/usr/bin/env node
// The `leakguard` command: see `leakguard --help`.
import { runLeaksCli } from './cli.ts';

process.exitCode = await runLeaksCli(process.argv.slice(2));
