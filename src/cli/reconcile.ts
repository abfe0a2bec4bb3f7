// `warren reconcile`: compares the store with RabbitMQ (exit 0 clean, 1 drift, 2 error), --fix
// repairs, --adopt takes over a Go multitenant broker's instances and bindings. Runs with the
// server stopped or beside a running one (see docs/reconcile.md).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ServiceCatalog } from '../broker/service-catalog.ts';
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { createManagementClient } from '../rabbitmq/index.ts';
import { adopt, type AdoptOptions } from '../reconcile/adopt.ts';
import { adoptionJson, adoptionText } from '../reconcile/adopt-report.ts';
import type { ReconcileDeps } from '../reconcile/findings.ts';
import { reconcile } from '../reconcile/reconcile.ts';
import { reportJson, reportText } from '../reconcile/report-text.ts';
import { createStore } from '../store/create-store.ts';
import { loadEncryptionKey } from '../store/encryption-key.ts';
import { SQLITE_FILE_NAME, SqliteStore } from '../store/sqlite-store.ts';

export const RECONCILE_HELP = `Usage: warren reconcile [--config FILE] [--json] [--fix]
       warren reconcile --adopt --plan PLAN [--service SERVICE] [--instance ID ...] [--dry-run] [--json]

Compares warren's store with RabbitMQ and reports, for this deployment only:
  orphans        vhosts and users carrying this deployment's id that no record knows
  missing        records whose vhost or user is gone
  drift          permissions, topic permissions, vhost and user limits, user tags,
                 policies and operator policies that differ from the plan; passwords that
                 are no longer the ones handed to the apps
Exit status: 0 no drift, 1 drift, 2 error.

  --fix          delete orphans, recreate missing vhosts and users (with their stored
                 passwords: apps' credentials work again), re-apply plan settings; exit 0
                 when a scan afterwards is clean, 1 when something remains
  --json         the report as JSON on stdout
  --adopt        take over instances and bindings of pivotal-cf's multitenant broker: vhosts
                 named after instance ids, users named after binding ids (docs/reconcile.md)
  --plan         the catalog plan (name or id) adopted instances are recorded with
  --service      the catalog service (name or id); needed when several have that plan
  --instance ID  adopt this vhost only (repeatable); default: every unmarked vhost whose
                 name is a GUID
  --dry-run      with --adopt: say what would be adopted, change nothing
`;

export interface ReconcileCliOptions {
  configFile?: string;
  json: boolean;
  fix: boolean;
  adopt: boolean;
  plan?: string;
  service?: string;
  instances: string[];
  dryRun: boolean;
  help: boolean;
}

/** Throws TypeError (node:util parseArgs) on unknown options or missing values. */
export function parseReconcileArgs(argv: string[]): ReconcileCliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      fix: { type: 'boolean', default: false },
      adopt: { type: 'boolean', default: false },
      plan: { type: 'string' },
      service: { type: 'string' },
      instance: { type: 'string', multiple: true, default: [] },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return {
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    json: values.json, fix: values.fix, adopt: values.adopt,
    ...(values.plan !== undefined ? { plan: values.plan } : {}),
    ...(values.service !== undefined ? { service: values.service } : {}),
    instances: values.instance, dryRun: values['dry-run'], help: values.help,
  };
}

/** `warren reconcile` with parsed options; returns the exit status. */
export async function runReconcileCli(opts: ReconcileCliOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (opts.help) {
    out.write(RECONCILE_HELP);
    return 0;
  }
  if (opts.adopt && opts.fix) {
    err.write('warren reconcile: --adopt and --fix are separate runs: adopt first, then reconcile\n');
    return 2;
  }
  if (opts.adopt && !opts.plan) {
    err.write('warren reconcile --adopt: --plan is required (the plan adopted instances are recorded with)\n');
    return 2;
  }
  let config;
  try {
    config = loadConfig({ file: opts.configFile });
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`warren reconcile: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // Run from the wrong place, it would make a new empty store (a new deployment) and find nothing.
  const sqliteFile = join(config.data_dir, SQLITE_FILE_NAME);
  // Adoption is the exception: migrating from the Go broker starts from an empty store.
  if (config.store.kind === 'sqlite' && !opts.adopt && !existsSync(sqliteFile)) {
    err.write(`warren reconcile: no store at ${sqliteFile}; run it with the server's configuration (--config, WARREN_DATA_DIR)\n`);
    return 2;
  }
  const key = loadEncryptionKey({ key: config.encryption_key, dataDir: config.data_dir });
  // Not a server: it serves no OSBAPI request, so it does not take the SQLite data dir's server
  // lock and runs beside a running warren (WAL: one writer, many readers; writes wait 5 s).
  const store = config.store.kind === 'postgres' ? createStore(config.store, key.key) : new SqliteStore({ dataDir: config.data_dir, key: key.key, exclusive: false });
  const rabbit = createManagementClient({
    urls: config.rabbitmq.management_urls,
    username: config.rabbitmq.administrator.username,
    password: config.rabbitmq.administrator.password,
    connectionsPerNode: 4,
  });
  try {
    await store.open();
    const deps: ReconcileDeps = {
      rabbit, store, catalog: new ServiceCatalog(config.catalog.services),
      deploymentId: config.deployment_id ?? (await store.deploymentId()),
      adminUsername: config.rabbitmq.administrator.username,
      // The report is the output; log lines would only repeat it.
      log: pino({ level: 'silent' }),
    };
    if (opts.adopt) {
      const adoptOpts: AdoptOptions = { plan: opts.plan!, instances: opts.instances, dryRun: opts.dryRun, ...(opts.service ? { service: opts.service } : {}) };
      const result = await adopt(deps, adoptOpts);
      out.write(opts.json ? adoptionJson(result) : adoptionText(result));
      return result.failed.length > 0 ? 1 : 0;
    }
    const report = await reconcile(deps, { fix: opts.fix });
    out.write(opts.json ? reportJson(report, opts.fix) : reportText(report, opts.fix));
    if (opts.fix) return report.remaining.length === 0 ? 0 : 1;
    return report.findings.length === 0 ? 0 : 1;
  } catch (e) {
    if ((e as { code?: unknown }).code === 'SQLITE_BUSY') {
      err.write('warren reconcile: the SQLite store stayed busy for 5 s (a running warren writing); run it again\n');
      return 2;
    }
    err.write(`warren reconcile: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await rabbit.close().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}
