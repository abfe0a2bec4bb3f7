// scripts/rabbitmq-up.sh does only what is missing and never writes an existing RabbitMQ's
// configuration. The machine's own RabbitMQ must not be stopped or reconfigured by a test, so
// the states it cannot safely be put in (not installed, stopped, plugin off) are played by
// stand-ins for apt-get, rabbitmq-server, rabbitmqctl, rabbitmq-plugins, systemctl and curl
// that record each call, with the configuration directory moved to a temporary one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';

const SCRIPT = new URL('../../scripts/rabbitmq-up.sh', import.meta.url).pathname;

// Each stand-in appends "name args" to $STATE/calls and keeps the machine's state as files.
const STUBS: Record<string, string> = {
  'apt-get': `[ "$1" = install ] && touch "$STATE/installed" && for c in rabbitmq-server rabbitmqctl rabbitmq-plugins; do ln -sf "$STATE/stubs/$c.real" "$STATE/bin/$c"; done; exit 0`,
  'rabbitmq-server.real': `[ "$1" = -detached ] && touch "$STATE/running"; exit 0`,
  'rabbitmqctl.real': `case "$*" in *status*|*await_startup*) [ -e "$STATE/running" ];; *) exit 0;; esac`,
  'rabbitmq-plugins.real': `case "$*" in *"enable --offline"*|*enable*) [ "$*" != "\${*#*--offline}" ] || [ -e "$STATE/running" ] || exit 1; echo '[rabbitmq_management].' > "$CONF/enabled_plugins";; esac`,
  systemctl: `case "$*" in start*) touch "$STATE/running";; *is-enabled*) exit 1;; esac; exit 0`,
  curl: `[ -e "$STATE/running" ] && grep -qs rabbitmq_management "$CONF/enabled_plugins" && printf 200 || printf 000`,
};

interface Machine {
  state: string;
  conf: string;
  run(): { status: number | null; stderr: string; calls: string[] };
}

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// The stand-ins must be the only RabbitMQ commands the script can find.
const SYSTEM_PATH = '/usr/bin:/bin';
const realOnPath = spawnSync('bash', ['-c', 'command -v rabbitmq-server rabbitmqctl rabbitmq-plugins apt-get systemctl || true'], { encoding: 'utf8', env: { PATH: SYSTEM_PATH } }).stdout.trim();

function machine(opts: { installed: boolean; running: boolean; plugin: boolean; conf?: Record<string, string> }): Machine {
  const state = mkdtempSync(join(tmpdir(), 'rabbitmq-up-'));
  made.push(state);
  const conf = join(state, 'etc-rabbitmq');
  mkdirSync(join(state, 'bin'));
  mkdirSync(join(state, 'stubs'));
  mkdirSync(conf);
  for (const [name, body] of Object.entries(STUBS)) {
    const file = join(state, 'stubs', name);
    const command = name.replace(/\.real$/, '');
    writeFileSync(file, `#!/bin/bash\necho "${command} $*" >> "$STATE/calls"\n${body}\n`);
    chmodSync(file, 0o755);
    if (!name.endsWith('.real')) writeFileSync(join(state, 'bin', name), `#!/bin/bash\nexec "$STATE/stubs/${name}" "$@"\n`, { mode: 0o755 });
  }
  if (opts.installed) for (const c of ['rabbitmq-server', 'rabbitmqctl', 'rabbitmq-plugins']) writeFileSync(join(state, 'bin', c), `#!/bin/bash\nexec "$STATE/stubs/${c}.real" "$@"\n`, { mode: 0o755 });
  if (opts.running) writeFileSync(join(state, 'running'), '');
  if (opts.plugin) writeFileSync(join(conf, 'enabled_plugins'), '[rabbitmq_management].\n');
  for (const [name, text] of Object.entries(opts.conf ?? {})) writeFileSync(join(conf, name), text);
  return {
    state,
    conf,
    run() {
      const r = spawnSync('bash', [SCRIPT], {
        encoding: 'utf8',
        timeout: 30_000,
        // The stand-ins first; no sbin, so the machine's real RabbitMQ commands are out of reach.
        env: { PATH: `${state}/bin:${SYSTEM_PATH}`, STATE: state, CONF: conf, RABBITMQ_UP_CONF_DIR: conf, RABBITMQ_UP_POLICY_RC_D: join(state, 'policy-rc.d') },
      });
      const calls = existsSync(join(state, 'calls')) ? readFileSync(join(state, 'calls'), 'utf8').trim().split('\n') : [];
      return { status: r.status, stderr: r.stderr, calls };
    },
  };
}

describe('scripts/rabbitmq-up.sh', () => {
  it('the stand-ins are first on PATH (the real commands are in sbin or stood in for)', () => {
    // apt-get and systemctl may live in /usr/bin: the stand-ins come first on PATH and win.
    for (const path of realOnPath.split('\n').filter(Boolean)) assert.ok(/apt-get|systemctl/.test(path), `${path} would be reachable`);
  });

  it('changes nothing when the management API already answers', () => {
    const m = machine({ installed: true, running: true, plugin: true, conf: { 'rabbitmq.conf': 'listeners.tcp.default = 5672\n' } });
    const r = m.run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /already answers at http:\/\/127\.0\.0\.1:15672; changed nothing/);
    assert.deepEqual(r.calls, ['curl -s -o /dev/null -w %{http_code} -u guest:guest --max-time 3 http://127.0.0.1:15672/api/overview']);
  });

  it('an installed, stopped node with its own configuration: starts it and enables the plugin, writes no configuration', () => {
    const own = { 'rabbitmq.conf': 'listeners.tcp.default = 0.0.0.0:5672\nloopback_users = none\n', 'rabbitmq-env.conf': 'NODENAME=rabbit@box\n' };
    const m = machine({ installed: true, running: false, plugin: false, conf: own });
    const r = m.run();
    assert.equal(r.status, 0, r.stderr);
    for (const [name, text] of Object.entries(own)) assert.equal(readFileSync(join(m.conf, name), 'utf8'), text, `${name} untouched`);
    assert.ok(!r.calls.some((c) => c.startsWith('apt-get')), 'nothing installed');
    assert.ok(r.calls.includes('rabbitmq-plugins -q enable --offline rabbitmq_management'));
    assert.ok(r.calls.includes('rabbitmq-server -detached') || r.calls.includes('systemctl start rabbitmq-server'));
    assert.match(r.stderr, /done: enabled the rabbitmq_management plugin; started rabbitmq-server \((detached|systemctl)\)\n/);
  });

  it('a running node without the management plugin: enables it on the node and starts nothing', () => {
    const m = machine({ installed: true, running: true, plugin: false, conf: { 'rabbitmq.conf': 'management.tcp.port = 15672\n' } });
    const r = m.run();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(m.conf, 'rabbitmq.conf'), 'utf8'), 'management.tcp.port = 15672\n');
    assert.ok(r.calls.includes('rabbitmq-plugins -q enable rabbitmq_management'));
    assert.ok(!r.calls.some((c) => c.startsWith('rabbitmq-server') || c.startsWith('systemctl')), 'the running node is left running');
    assert.match(r.stderr, /done: enabled the rabbitmq_management plugin\n/);
  });

  it('not installed: installs with apt, writes a loopback-only configuration where none exists, starts the node', () => {
    const m = machine({ installed: false, running: false, plugin: false });
    const r = m.run();
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.calls.includes('apt-get install -y -qq rabbitmq-server'));
    assert.equal(readFileSync(join(m.conf, 'rabbitmq.conf'), 'utf8'), 'listeners.tcp.default = 127.0.0.1:5672\nmanagement.tcp.ip = 127.0.0.1\n');
    assert.match(readFileSync(join(m.conf, 'rabbitmq-env.conf'), 'utf8'), /^NODENAME=rabbit@localhost\nERL_EPMD_ADDRESS=127\.0\.0\.1\n$/);
    assert.ok(!existsSync(join(m.state, 'policy-rc.d')), 'the policy that kept apt from starting a node is removed again');
    assert.match(r.stderr, /done: installed rabbitmq-server \(apt\); wrote .*rabbitmq\.conf; wrote .*rabbitmq-env\.conf; enabled the rabbitmq_management plugin; started rabbitmq-server \((detached|systemctl)\)/);
  });

  it('not installed but a configuration file already there: that file is kept as it is', () => {
    const m = machine({ installed: false, running: false, plugin: false, conf: { 'rabbitmq.conf': 'listeners.tcp.default = 10.0.0.5:5672\n' } });
    const r = m.run();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(m.conf, 'rabbitmq.conf'), 'utf8'), 'listeners.tcp.default = 10.0.0.5:5672\n');
    assert.match(r.stderr, /leaving .*rabbitmq\.conf as it is/);
  });
});
