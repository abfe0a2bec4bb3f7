// The deployment artifacts, loaded as their tools would load them: every WARREN_* setting they
// pass is one warren's configuration loader reads, and together the settings make a valid
// configuration; every command they run exists (the node flags, the bin, its subcommand and
// options, the npm scripts) and every file the Dockerfile copies is in the repository.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseCli } from '../../src/cli/parse-cli.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; scripts: Record<string, string> };

/** The WARREN_* variables the configuration loader reads (from its sources, so a new one counts at once). */
const ACCEPTED_ENV = new Set(
  readdirSync(join(ROOT, 'src/config'))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...read(`src/config/${f}`).matchAll(/\benv\.(WARREN_[A-Z0-9_]+)/g)].map((m) => m[1] as string)),
);
/** Variables for Node and npm that an artifact may set besides warren's own. */
const OTHER_ENV = new Set(['NODE_ENV']);

/** Checks names, then that the values together make a configuration warren starts with. */
function checkEnvironment(env: Record<string, string>, where: string): void {
  for (const name of Object.keys(env)) {
    if (name.startsWith('WARREN_')) assert.ok(ACCEPTED_ENV.has(name), `${where}: ${name} is not a variable warren reads (it reads ${[...ACCEPTED_ENV].join(', ')})`);
    else assert.ok(OTHER_ENV.has(name), `${where}: unexpected variable ${name}`);
  }
  assert.doesNotThrow(() => loadConfig({ env }), `${where}: the configuration these variables make is valid`);
}

const nodeFlagsWork = (flags: string[]) => spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' }).status === 0;

/** `node [flags] <warren bin> <args>` with the bin under `appDir` (the repository's layout). */
function checkNodeCommand(argv: string[], appDir: string, where: string): void {
  assert.match(argv[0] ?? '', /(^|\/)node$/, `${where}: runs node`);
  const script = argv.findIndex((a, i) => i > 0 && !a.startsWith('-'));
  const flags = argv.slice(1, script);
  assert.ok(nodeFlagsWork(flags), `${where}: node accepts ${flags.join(' ')}`);
  const bin = (argv[script] as string).replace(appDir, '');
  assert.equal(bin, pkg.bin.warren, `${where}: runs the warren bin`);
  assert.ok(existsSync(join(ROOT, bin)), `${where}: ${bin} exists`);
  const command = parseCli(argv.slice(script + 1));
  assert.equal(command.kind, 'run', `${where}: "warren ${argv.slice(script + 1).join(' ')}" is a command warren runs: ${JSON.stringify(command)}`);
}

describe('Dockerfile', () => {
  const lines = read('Dockerfile').replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const instructions = lines.map((l) => ({ op: (l.split(/\s+/)[0] as string).toUpperCase(), arg: l.slice(l.indexOf(' ') + 1).trim() }));
  const stages: Array<typeof instructions> = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') stages.push([ins]);
    else stages.at(-1)?.push(ins);
  }
  const final = stages.at(-1) ?? [];
  const env: Record<string, string> = {};
  for (const ins of final.filter((i) => i.op === 'ENV')) for (const m of ins.arg.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1] as string] = m[2] as string;

  it('is multi-stage, and the final stage runs as a user other than root', () => {
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
    const users = final.filter((i) => i.op === 'USER').map((i) => i.arg);
    assert.ok(users.length > 0 && !['root', '0'].includes(users.at(-1) as string), `USER ${users.at(-1)}`);
  });

  it('builds with npm scripts that exist and copies only files that exist (and .dockerignore keeps)', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter(Boolean);
    for (const ins of instructions.filter((i) => i.op === 'RUN')) {
      for (const m of ins.arg.matchAll(/npm run ([\w:-]+)/g)) assert.ok(pkg.scripts[m[1] as string], `npm run ${m[1]} exists`);
    }
    for (const ins of instructions.filter((i) => i.op === 'COPY' && !i.arg.startsWith('--from'))) {
      const sources = ins.arg.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: exists`);
        assert.ok(!ignored.some((p) => source === p || source.startsWith(`${p}/`)), `COPY ${source}: not excluded by .dockerignore`);
      }
    }
    // The runtime stage copies the compiled build from the build stage, never the sources.
    const fromBuild = final.filter((i) => i.op === 'COPY' && i.arg.startsWith('--from')).map((i) => i.arg.split(/\s+/)[1]);
    assert.ok(fromBuild.includes('/app/dist'), 'dist/ from the build stage');
    assert.ok(!final.some((i) => i.op === 'COPY' && /(^|\s)\.?\/?src(\s|$)/.test(i.arg)), 'no sources in the runtime stage');
  });

  it('passes settings warren accepts, exposes the port it listens on, and runs warren serve', () => {
    checkEnvironment(env, 'Dockerfile ENV');
    const port = (env.WARREN_LISTEN ?? '').split(':').at(-1);
    assert.ok(final.some((i) => i.op === 'EXPOSE' && i.arg === port), `EXPOSE ${port}`);
    const cmd = JSON.parse(final.find((i) => i.op === 'CMD')?.arg ?? '[]') as string[];
    checkNodeCommand(cmd, '', 'Dockerfile CMD');
  });

  it('has a health check on /health at the port warren listens on', () => {
    const check = final.find((i) => i.op === 'HEALTHCHECK')?.arg ?? '';
    const cmd = JSON.parse(check.slice(check.indexOf('CMD') + 3).trim()) as string[];
    assert.equal(cmd[0], 'node');
    const url = /fetch\('([^']+)'\)/.exec(cmd.join(' '))?.[1] ?? '';
    assert.equal(new URL(url).pathname, '/health');
    assert.equal(new URL(url).port, (env.WARREN_LISTEN ?? '').split(':').at(-1));
    assert.ok(nodeFlagsWork([]) && typeof fetch === 'function', 'the node of the image has fetch (Node 18+)');
  });
});

describe('Kubernetes manifests', () => {
  const kustomization = parseYaml(read('deploy/kubernetes/kustomization.yaml')) as { resources: string[] };
  const docs = kustomization.resources.flatMap((file) => {
    assert.ok(existsSync(join(ROOT, 'deploy/kubernetes', file)), `${file} (listed in kustomization.yaml) exists`);
    return parseAllDocuments(read(`deploy/kubernetes/${file}`)).map((d) => d.toJS() as any);
  });
  const byKind = (kind: string) => docs.filter((d) => d?.kind === kind);
  const deployment = byKind('Deployment')[0];
  const container = deployment?.spec.template.spec.containers[0];

  it('has a Deployment of two or more replicas, a Secret, a Service and a PodDisruptionBudget', () => {
    for (const kind of ['Deployment', 'Secret', 'Service', 'PodDisruptionBudget']) assert.equal(byKind(kind).length, 1, kind);
    assert.ok(deployment.spec.replicas >= 2, `replicas: ${deployment.spec.replicas}`);
  });

  it('keeps its state in PostgreSQL and passes settings warren accepts, secrets from the Secret', () => {
    const secret = byKind('Secret')[0];
    const env: Record<string, string> = {};
    for (const e of container.env as Array<{ name: string; value?: string; valueFrom?: any }>) {
      if (e.value !== undefined) env[e.name] = e.value;
      else {
        const ref = e.valueFrom.secretKeyRef;
        assert.equal(ref.name, secret.metadata.name, `${e.name} comes from the Secret`);
        assert.ok(ref.key in secret.stringData, `${e.name}: the Secret has ${ref.key}`);
        env[e.name] = secret.stringData[ref.key];
      }
    }
    assert.match(env.WARREN_STORE_URL ?? '', /^postgres(ql)?:\/\//, 'replicas share a PostgreSQL store');
    for (const secretName of ['WARREN_PASSWORD', 'WARREN_ENCRYPTION_KEY', 'WARREN_MANAGEMENT_URLS', 'WARREN_STORE_URL']) {
      assert.ok(container.env.find((e: any) => e.name === secretName)?.valueFrom, `${secretName} is not written in the Deployment`);
    }
    checkEnvironment(env, 'Deployment env');
    const listenPort = Number(env.WARREN_LISTEN?.split(':').at(-1));
    assert.equal(container.ports.find((p: any) => p.name === 'http')?.containerPort, listenPort, 'the container port is the one warren listens on');
    checkNodeCommand([...(container.command ?? []), ...(container.args ?? [])], '', 'Deployment args');
  });

  it('probes liveness on /health and readiness on /ready; runs as non-root, read-only, without privileges', () => {
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/health', port: 'http' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/ready', port: 'http' });
    assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    const mounted = (container.volumeMounts as Array<{ mountPath: string }>).map((m) => m.mountPath);
    assert.ok(mounted.includes('/var/lib/warren') && mounted.includes('/tmp'), 'writable data dir and /tmp');
  });

  it('the Service and the PodDisruptionBudget select the Deployment\'s pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const service = byKind('Service')[0];
    assert.ok(selects(service.spec.selector), 'Service selector');
    assert.ok(service.spec.ports.some((p: any) => p.targetPort === 'http'), 'Service targets the http port');
    const pdb = byKind('PodDisruptionBudget')[0];
    assert.ok(selects(pdb.spec.selector.matchLabels), 'PDB selector');
    assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < deployment.spec.replicas, 'a drain can proceed and leaves one serving');
  });
});

describe('Cloud Foundry manifest', () => {
  const manifest = parseYaml(read('deploy/cloudfoundry/manifest.yml')) as { applications: Array<Record<string, any>> };
  const vars = parseYaml(read('deploy/cloudfoundry/vars.example.yml')) as Record<string, string>;
  const app = manifest.applications[0] as Record<string, any>;
  const substitute = (text: string) =>
    text.replace(/\(\(([\w-]+)\)\)/g, (_, name: string) => {
      assert.ok(name in vars, `((${name})) has a value in vars.example.yml`);
      return vars[name] as string;
    });

  it('pushes the repository root with two instances and a health check on /health', () => {
    assert.ok(existsSync(join(ROOT, 'deploy/cloudfoundry', app.path, 'package.json')), `path ${app.path} is the repository root`);
    assert.ok(app.instances >= 2);
    assert.equal(app['health-check-type'], 'http');
    assert.equal(app['health-check-http-endpoint'], '/health');
  });

  it('passes settings warren accepts and runs warren serve on $PORT', () => {
    const words = (app.command as string).split(/\s+/);
    const assignments = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1).replace('$PORT', '8080')]));
    assert.equal(assignments.WARREN_LISTEN, '0.0.0.0:8080', 'listens on the port Cloud Foundry assigns');
    const env = Object.fromEntries(Object.entries(app.env as Record<string, string>).map(([k, v]) => [k, substitute(String(v))]));
    checkEnvironment({ ...env, ...assignments }, 'manifest env and command');
    checkNodeCommand(words.filter((w) => !/^[A-Z_]+=/.test(w)), '', 'manifest command');
  });
});

describe('systemd unit', () => {
  const unit = read('deploy/systemd/warren.service');
  const service = unit.slice(unit.indexOf('[Service]'), unit.indexOf('[Install]'));
  const entries = service.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
  const values = (key: string) => entries.filter(([k]) => k === key).map(([, v]) => v);

  it('runs warren serve from the install directory with settings warren accepts', () => {
    const [execStart] = values('ExecStart');
    checkNodeCommand((execStart as string).split(/\s+/), '/opt/warren/', 'ExecStart');
    assert.equal(values('WorkingDirectory')[0], '/opt/warren');
    const env = Object.fromEntries(values('Environment').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    assert.equal(env.WARREN_DATA_DIR, `/var/lib/${values('StateDirectory')[0]}`, 'the data dir is the unit\'s state directory');
    checkEnvironment(env, 'Environment=');
  });

  it('is hardened: a dynamic user, a read-only system, no privileges, private /tmp, files 0600', () => {
    for (const [key, value] of [['DynamicUser', 'yes'], ['ProtectSystem', 'strict'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes'], ['ProtectHome', 'yes'], ['UMask', '0077'], ['StateDirectoryMode', '0700'], ['CapabilityBoundingSet', '']]) {
      assert.deepEqual(values(key as string), [value], `${key}=${value}`);
    }
    assert.deepEqual(values('MemoryDenyWriteExecute'), [], 'V8 needs writable executable memory');
    assert.ok(Number(values('TimeoutStopSec')[0]) > 30, 'longer than warren\'s 30 s drain');
  });
});
