// `warren serve`: load and check the configuration, start, and stop cleanly on SIGTERM/SIGINT
// (in-flight requests finish, then the pool and the store close, exit 0).
import { unwatchFile, watchFile } from 'node:fs';
import { type RunningWarren, type StartOverrides, startWarren } from '../app/start-warren.ts';
import { resolveBrokerPassword } from '../config/broker-password.ts';
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';

export async function serve(opts: { configFile?: string; overrides?: StartOverrides }): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  let password: ReturnType<typeof resolveBrokerPassword>;
  try {
    config = loadConfig({ file: opts.configFile });
    password = resolveBrokerPassword(config.auth.password, config.data_dir);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`warren: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(config.log_level);
  if (password.file) log.info({ file: password.file, username: config.auth.username }, 'no broker password configured: using the one stored in this file');
  const fullConfig = { ...config, auth: { username: config.auth.username, password: password.password } };

  let running: RunningWarren;
  try {
    running = await startWarren(fullConfig, log, opts.overrides);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'warren could not start');
    log.flush();
    return 1;
  }

  // SIGHUP or a change of the configuration file: apply the new broker password, RabbitMQ admin
  // account and encryption keys without a restart. A bad new configuration changes nothing.
  const reload = (reason: string) => {
    try {
      const next = loadConfig({ file: opts.configFile, refuseEmptyFile: true });
      const nextPassword = resolveBrokerPassword(next.auth.password, next.data_dir);
      const outcome = running.reload({ ...next, auth: { username: next.auth.username, password: nextPassword.password } });
      log.info({ reason, applied: outcome.applied, needs_restart: outcome.needsRestart }, 'configuration reloaded');
    } catch (err) {
      log.error({ reason, err: (err as Error).message }, 'configuration reload failed; the running settings stay');
    }
  };
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  const configFile = opts.configFile ?? process.env.WARREN_CONFIG;
  if (configFile) {
    watchFile(configFile, { interval: 2000, persistent: false }, (now, before) => {
      // Size too: a truncate and the write after it can share one coarse mtime.
      if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) reload('configuration file changed');
    });
  }

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGHUP', onHup);
      if (configFile) unwatchFile(configFile);
      log.info({ signal }, 'stopping: draining in-flight requests');
      const force = setTimeout(() => {
        log.error('in-flight requests did not finish within 30 s; exiting');
        log.flush();
        // Open sockets would keep the process alive: leave now.
        process.exit(1);
      }, 30_000);
      force.unref();
      running.close().then(
        () => {
          clearTimeout(force);
          log.info('stopped');
          log.flush();
          resolve(0);
        },
        (err: Error) => {
          log.error({ err: err.message }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
