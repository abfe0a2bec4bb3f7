// undici's Pool, without the rest of undici. `import { Pool } from 'undici'` evaluates the whole
// package (fetch, WebSocket, EventSource, caches, mocks: 110 modules, about 14 MB of warren's RSS
// at start) for the one class the funnel uses. This loads what undici's index does for a Pool:
// the class (lib/dispatcher/pool.js, the very one the index re-exports) and the request API it
// puts on Dispatcher.prototype (request, stream, pipeline, connect, upgrade). undici's
// package.json has no "exports" map that would close these paths.
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);
const dispatcher: { prototype: object } = require('undici/lib/dispatcher/dispatcher.js');
Object.assign(dispatcher.prototype, require('undici/lib/api/index.js'));

export const Pool: typeof UndiciPool = require('undici/lib/dispatcher/pool.js');
export type Pool = UndiciPool;
