// `warren reconcile` once its options are parsed (reconcile-command.ts): compares the store with
// RabbitMQ (exit 0 clean, 1 drift, 2 error), --fix repairs, --adopt takes over a Go multitenant
// broker's instances and bindings. Runs with the server stopped or beside a running one
// (docs/reconcile.md).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { managementTls } from '../app/management-tls.ts';
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
import { loadEncryptionKeys } from '../store/encryption-key.ts';
import { Keyring } from '../store/keyring.ts';
import { SQLITE_FILE_NAME } from '../store/sqlite-store.ts';

export interface ReconcileCliOptions {
  configFile?: string;
  json: boolean;
  fix: boolean;
  adopt: boolean;
  plan?: string;
  service?: string;
  instances: string[];
  dryRun: boolean;
}

/** `warren reconcile` with parsed options; returns the exit status. */
export async function runReconcileCli(opts: ReconcileCliOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
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
  // Every configured key (labelled keys during a rotation): stored passwords sealed with any of them open.
  let keyring: Keyring;
  let tls: ReturnType<typeof managementTls> | undefined;
  try {
    const keys = loadEncryptionKeys({ key: config.encryption_key, keys: config.encryption_keys, dataDir: config.data_dir });
    keyring = new Keyring(keys.keys, keys.primary);
    tls = config.rabbitmq.management_tls ? managementTls(config.rabbitmq.management_tls) : undefined;
  } catch (e) {
    err.write(`warren reconcile: ${(e as Error).message}\n`);
    return 2;
  }
  // Not a server: it serves no OSBAPI request, so it does not take the SQLite data dir's server
  // lock and runs beside a running warren (WAL: one writer, many readers; writes wait 5 s).
  const store = createStore(config.store.kind === 'postgres' ? config.store : { kind: 'sqlite', dataDir: config.data_dir, exclusive: false }, keyring);
  const rabbit = createManagementClient({
    urls: config.rabbitmq.management_urls,
    username: config.rabbitmq.administrator.username,
    password: config.rabbitmq.administrator.password,
    connectionsPerNode: 4,
    ...(tls ? { tls } : {}),
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
