// The process entry: bin/warren.mjs runs its compiled form (dist/src/cli/warren.js); the tests and
// `npm run dev` run this file through tsx.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
