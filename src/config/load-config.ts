// Reads the YAML file (if any), lays it over the defaults, applies the WARREN_* environment
// overrides, validates, and derives what follows from the rest (hosts, public URLs).
import { readFileSync } from 'node:fs';
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, DEFAULT_USER_TAGS, type LoadedConfig } from './config-schema.ts';
import { ConfigError } from './config-error.ts';
import { defaultConfigDocument } from './default-config.ts';
import { didYouMean } from './did-you-mean.ts';
import { managementUrlAt, parseListen } from './parse-values.ts';

export { ConfigError };

type Doc = Record<string, unknown>;
const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * An empty file is an error rather than "all defaults". A reload sets this: a file caught
   * between an editor's truncate and its write would otherwise swap the broker password for the
   * stored one and drop the configured keys and admin account.
   */
  refuseEmptyFile?: boolean;
}

/** The configuration with everything filled in except a missing broker password (see broker-password.ts). */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const doc = defaultConfigDocument();
  const file = opts.file ?? env.WARREN_CONFIG;
  if (file) overlay(doc, readYaml(file, opts.refuseEmptyFile === true));
  applyEnv(doc, env);
  normalize(doc);
  const config = validate(doc);
  derive(config);
  checkCrossFields(config);
  return config;
}

function readYaml(file: string, refuseEmpty: boolean): Doc {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (refuseEmpty && text.trim() === '') throw new ConfigError(`configuration file ${file} is empty (still being written?)`);
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`configuration file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed == null) return {};
  if (!isObject(parsed)) throw new ConfigError(`configuration file ${file} must hold a mapping at the top level`);
  return parsed;
}

/** Sections given in the file replace the defaults' ones, one level deep for `rabbitmq`. */
function overlay(doc: Doc, file: Doc): void {
  for (const [key, value] of Object.entries(file)) {
    if (key === 'rabbitmq' && isObject(value) && isObject(doc.rabbitmq)) {
      const rabbit = { ...doc.rabbitmq, ...value };
      // URLs from the file bring their own credentials: drop the default guest account.
      if ('management_urls' in value && !('administrator' in value)) delete rabbit.administrator;
      doc.rabbitmq = rabbit;
    } else if (key === 'auth' && isObject(value) && isObject(doc.auth)) {
      doc.auth = { ...doc.auth, ...value };
    } else {
      doc[key] = value;
    }
  }
}

function applyEnv(doc: Doc, env: NodeJS.ProcessEnv): void {
  const auth = (doc.auth ??= {}) as Doc;
  const rabbit = (doc.rabbitmq ??= {}) as Doc;
  if (env.WARREN_LISTEN) doc.listen = env.WARREN_LISTEN;
  if (env.WARREN_USERNAME) auth.username = env.WARREN_USERNAME;
  if (env.WARREN_PASSWORD) auth.password = env.WARREN_PASSWORD;
  if (env.WARREN_DATA_DIR) doc.data_dir = env.WARREN_DATA_DIR;
  if (env.WARREN_LOG_LEVEL) doc.log_level = env.WARREN_LOG_LEVEL;
  if (env.WARREN_ENCRYPTION_KEY) doc.encryption_key = env.WARREN_ENCRYPTION_KEY;
  if (env.WARREN_DEPLOYMENT_ID) doc.deployment_id = env.WARREN_DEPLOYMENT_ID;
  if (env.WARREN_ENCRYPTION_KEYS) doc.encryption_keys = parseKeyList(env.WARREN_ENCRYPTION_KEYS);
  if (env.WARREN_TLS_CERT_FILE || env.WARREN_TLS_KEY_FILE || env.WARREN_TLS_CLIENT_CA_FILE) {
    const tls = (doc.tls = isObject(doc.tls) ? { ...doc.tls } : {}) as Doc;
    if (env.WARREN_TLS_CERT_FILE) tls.cert_file = env.WARREN_TLS_CERT_FILE;
    if (env.WARREN_TLS_KEY_FILE) tls.key_file = env.WARREN_TLS_KEY_FILE;
    if (env.WARREN_TLS_CLIENT_CA_FILE) tls.client_ca_file = env.WARREN_TLS_CLIENT_CA_FILE;
  }
  if (env.WARREN_STORE_URL) doc.store = { kind: 'postgres', url: env.WARREN_STORE_URL };
  if (env.WARREN_MANAGEMENT_URLS) {
    rabbit.management_urls = env.WARREN_MANAGEMENT_URLS.split(',').map((s) => s.trim()).filter(Boolean);
    // URLs with userinfo bring the administrator account; without, the configured one stays.
    if ((rabbit.management_urls as string[]).some((u) => /^[a-z]+:\/\/[^/@]*@/i.test(u))) delete rabbit.administrator;
  }
  if (env.WARREN_RABBITMQ_HOSTS) rabbit.hosts = env.WARREN_RABBITMQ_HOSTS.split(',').map((s) => s.trim()).filter(Boolean);
}

/** WARREN_ENCRYPTION_KEYS: `label=key,label=key`, the first one primary. */
function parseKeyList(text: string): Doc[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((entry, i) => {
    const eq = entry.indexOf('=');
    // Never echo the entry: it holds a key.
    if (eq <= 0) throw new ConfigError(`WARREN_ENCRYPTION_KEYS entry #${i + 1} must be label=key`);
    return { label: entry.slice(0, eq), key: entry.slice(eq + 1), ...(i === 0 ? { primary: true } : {}) };
  });
}

/** Turns the short forms (listen "host:port", URLs with userinfo) into the schema's shape. */
function normalize(doc: Doc): void {
  if (typeof doc.listen === 'string') doc.listen = parseListen(doc.listen, 'listen');
  if (typeof doc.listen === 'number') doc.listen = { host: '127.0.0.1', port: doc.listen };
  if (isObject(doc.rabbitmq)) takeAdministratorFromUrls(doc.rabbitmq);
  fillPlanUserTags(doc);
}

/** Management URLs lose their userinfo; the account in it becomes rabbitmq.administrator unless one is given. */
function takeAdministratorFromUrls(rabbit: Doc): void {
  if (!Array.isArray(rabbit.management_urls)) return;
  let admin: { username: string; password: string } | undefined;
  rabbit.management_urls = rabbit.management_urls.map((raw, i) => {
    if (typeof raw !== 'string') return raw;
    const { base, username, password } = managementUrlAt(raw, `rabbitmq.management_urls[${i}]`);
    if (username !== undefined && password !== undefined) {
      if (admin && (admin.username !== username || admin.password !== password)) {
        throw new ConfigError(`rabbitmq.management_urls[${i}]: every URL must carry the same administrator account`);
      }
      admin = { username, password };
    }
    return base;
  });
  if (admin && !isObject(rabbit.administrator)) rabbit.administrator = admin;
  if (!isObject(rabbit.administrator)) rabbit.administrator = { username: 'guest', password: 'guest' };
}

/** A plan without user_tags gets rabbitmq.user_tags (or its default), so the type says it always has them. */
function fillPlanUserTags(doc: Doc): void {
  const configured = isObject(doc.rabbitmq) ? doc.rabbitmq.user_tags : undefined;
  // A bad rabbitmq.user_tags is reported there, once, not again in every plan.
  const tags = Array.isArray(configured) ? configured : DEFAULT_USER_TAGS;
  const services = isObject(doc.catalog) && Array.isArray(doc.catalog.services) ? doc.catalog.services : [];
  for (const service of services) {
    if (!isObject(service) || !Array.isArray(service.plans)) continue;
    for (const plan of service.plans) {
      if (!isObject(plan)) continue;
      const planRabbit = (plan.rabbitmq ??= {});
      if (isObject(planRabbit) && planRabbit.user_tags === undefined) planRabbit.user_tags = structuredClone(tags);
    }
  }
}

/** ajv's validator for a TypeBox schema: what passes has the schema's own static type. */
const compileSchema = <S extends TSchema>(ajv: Ajv, schema: S): ValidateFunction<Static<S>> => ajv.compile<Static<S>>(schema);

let compiled: ValidateFunction<LoadedConfig> | undefined;

function validate(doc: Doc): LoadedConfig {
  compiled ??= compileSchema(new Ajv({ useDefaults: true, allErrors: true, strict: false, verbose: true }), ConfigSchema);
  if (!compiled(doc)) throw new ConfigError(`invalid configuration:\n${formatErrors(compiled.errors ?? [], doc)}`);
  return doc;
}

function keyPath(instancePath: string): string {
  const parts = instancePath.split('/').slice(1);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

const STORE_KINDS = ['sqlite', 'postgres'];

/** The keys an object schema accepts (ajv's verbose errors carry the schema that refused a key). */
function knownKeys(schema: unknown): string[] {
  const properties = isObject(schema) ? schema.properties : undefined;
  return isObject(properties) ? Object.keys(properties) : [];
}

/** Errors of the store branch the file did not choose say nothing useful: only the chosen kind's are kept. */
function otherStoreKind(e: ErrorObject, doc: Doc): boolean {
  if (!e.schemaPath.startsWith('#/properties/store/anyOf/')) return false;
  const kind = isObject(doc.store) ? STORE_KINDS.indexOf(String(doc.store.kind)) : -1;
  if (kind >= 0) return !e.schemaPath.startsWith(`#/properties/store/anyOf/${kind}/`);
  // No kind or an unknown one: that is the error to report.
  return !(e.instancePath === '/store/kind' || (e.keyword === 'required' && e.params.missingProperty === 'kind'));
}

function formatErrors(errors: ErrorObject[], doc: Doc): string {
  const lines = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'anyOf' || otherStoreKind(e, doc)) continue;
    const at = keyPath(e.instancePath);
    const under = at === '(top level)' ? '' : `${at}.`;
    if (e.keyword === 'additionalProperties') {
      const key = String(e.params.additionalProperty);
      lines.add(`- ${under}${key}: unknown key${didYouMean(key, knownKeys(e.parentSchema))}`);
    } else if (e.keyword === 'required') {
      lines.add(`- ${under}${String(e.params.missingProperty)}: is required`);
    } else if (e.keyword === 'enum') {
      lines.add(`- ${at}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`);
    } else if (e.keyword === 'const' && e.instancePath === '/store/kind') {
      lines.add(`- ${at}: must be ${STORE_KINDS.join(' or ')}`);
    } else if (e.keyword === 'minLength' && e.params.limit === 1) {
      lines.add(`- ${at}: must not be empty`);
    } else if (e.keyword === 'minItems' && e.params.limit === 1) {
      lines.add(`- ${at}: must list at least one`);
    } else {
      lines.add(`- ${at}: ${e.message ?? 'is invalid'}`);
    }
  }
  return [...lines].join('\n');
}

/** Fills hosts and public URLs from the management URLs when not given, and checks the public ones. */
function derive(config: LoadedConfig): void {
  const rabbit = config.rabbitmq;
  if (rabbit.hosts.length === 0) {
    rabbit.hosts = [...new Set(rabbit.management_urls.map((u, i) => managementUrlAt(u, `rabbitmq.management_urls[${i}]`).host))];
  }
  if (rabbit.management_public_urls.length === 0) rabbit.management_public_urls = [...rabbit.management_urls];
  rabbit.management_public_urls = rabbit.management_public_urls.map((raw, i) => {
    const key = `rabbitmq.management_public_urls[${i}]`;
    const url = managementUrlAt(raw, key);
    // Apps and dashboards see these: an account in them would be handed to every binding.
    if (url.username !== undefined) throw new ConfigError(`${key}: must not carry credentials (apps see this URL)`);
    return url.base;
  });
}

function checkCrossFields(config: LoadedConfig): void {
  const labels = new Set<string>(config.encryption_key !== undefined ? ['default'] : []);
  for (const [i, k] of (config.encryption_keys ?? []).entries()) {
    if (labels.has(k.label)) throw new ConfigError(`encryption_keys[${i}].label: "${k.label}" is used twice (encryption_key is labelled "default")`);
    labels.add(k.label);
  }
  if ((config.encryption_keys ?? []).filter((k) => k.primary).length > 1) throw new ConfigError('encryption_keys: only one key may be primary');
  const serviceIds = new Set<string>();
  const serviceNames = new Set<string>();
  const planIds = new Set<string>();
  config.catalog.services.forEach((service, si) => {
    const at = `catalog.services[${si}]`;
    if (serviceIds.has(service.id)) throw new ConfigError(`${at}.id: "${service.id}" is used twice`);
    if (serviceNames.has(service.name)) throw new ConfigError(`${at}.name: "${service.name}" is used twice`);
    serviceIds.add(service.id);
    serviceNames.add(service.name);
    const planNames = new Set<string>();
    service.plans.forEach((plan, pi) => {
      const pat = `${at}.plans[${pi}]`;
      if (planIds.has(plan.id) || serviceIds.has(plan.id)) throw new ConfigError(`${pat}.id: "${plan.id}" is used twice`);
      if (planNames.has(plan.name)) throw new ConfigError(`${pat}.name: "${plan.name}" is used twice in this service`);
      planIds.add(plan.id);
      planNames.add(plan.name);
      const policyNames = new Set<string>();
      for (const p of [...plan.rabbitmq.policies, ...plan.rabbitmq.operator_policies]) {
        if (policyNames.has(p.name)) throw new ConfigError(`${pat}.rabbitmq: policy name "${p.name}" is used twice`);
        policyNames.add(p.name);
      }
    });
  });
}
