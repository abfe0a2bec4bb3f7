// `warren reconcile`: store vs RabbitMQ, --fix, --adopt (the work is in src/reconcile).
import { defineCommand } from './command-spec.ts';
import { CliUsageError, stringOption } from './parse-options.ts';
import type { ReconcileCliOptions } from './reconcile.ts';

export const reconcileCommand = defineCommand<ReconcileCliOptions>({
  synopsis: 'reconcile [--fix] ...',
  summary: 'compare the store with RabbitMQ, repair drift, adopt the Go broker\'s instances (warren reconcile --help)',
  usage: `Usage: warren reconcile [--config FILE] [--json] [--fix]
       warren reconcile --adopt --plan PLAN [--service SERVICE] [--instance ID ...] [--dry-run] [--json]

Compares warren's store with RabbitMQ and reports, for this deployment only:
  orphans        vhosts and users carrying this deployment's id that no record knows
  missing        records whose vhost or user is gone
  drift          permissions, topic permissions, vhost and user limits, user tags,
                 policies and operator policies that differ from the plan; passwords that
                 are no longer the ones handed to the apps
Exit status: 0 no drift, 1 drift, 2 error. Runs with the server stopped or beside it.

Options:
  --config FILE  the configuration file (default: WARREN_CONFIG, else built-in defaults)
  --fix          delete orphans, recreate missing vhosts and users (with their stored
                 passwords: apps' credentials work again), re-apply plan settings; exit 0
                 when a scan afterwards is clean, 1 when something remains
  --json         the report as JSON on stdout
  --adopt        take over instances and bindings of pivotal-cf's multitenant broker: vhosts
                 named after instance ids, users named after binding ids (docs/reconcile.md)
  --plan PLAN    with --adopt: the catalog plan (name or id) instances are recorded with
  --service S    with --adopt: the catalog service (name or id), when several have that plan
  --instance ID  with --adopt: adopt this vhost only (repeatable); default: every unmarked
                 vhost whose name is a GUID
  --dry-run      with --adopt: say what would be adopted, change nothing
  -h, --help     show this help
`,
  options: {
    config: { type: 'string' },
    json: { type: 'boolean' },
    fix: { type: 'boolean' },
    adopt: { type: 'boolean' },
    plan: { type: 'string' },
    service: { type: 'string' },
    instance: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
  },
  build: (values) => {
    const adopt = values.adopt === true;
    const fix = values.fix === true;
    const plan = stringOption(values, 'plan');
    const service = stringOption(values, 'service');
    const instances = Array.isArray(values.instance) ? values.instance.filter((v): v is string => typeof v === 'string') : [];
    if (adopt && fix) throw new CliUsageError('--adopt and --fix are separate runs: adopt first, then reconcile --fix');
    if (adopt && plan === undefined) throw new CliUsageError('--adopt needs --plan (the plan adopted instances are recorded with)');
    if (!adopt && (plan !== undefined || service !== undefined || instances.length > 0 || values['dry-run'] === true)) {
      throw new CliUsageError('--plan, --service, --instance and --dry-run go with --adopt');
    }
    const configFile = stringOption(values, 'config');
    return {
      ...(configFile !== undefined ? { configFile } : {}),
      json: values.json === true, fix, adopt,
      ...(plan !== undefined ? { plan } : {}),
      ...(service !== undefined ? { service } : {}),
      instances, dryRun: values['dry-run'] === true,
    };
  },
  run: async (args) => (await import('./reconcile.ts')).runReconcileCli(args),
});
