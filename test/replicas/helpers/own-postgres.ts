// A PostgreSQL server of the test's own, so a test can stop and restart it under load without
// touching the machine's server on 5432: initdb into a temporary directory with the Debian
// binaries, run as the postgres user, bound to 127.0.0.1 on its own port, trust logins. Stopped
// (and its directory removed) by the test; the server's pid comes from its own postmaster.pid.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PORT = Number(process.env['WARREN_TEST_OWN_PG_PORT'] ?? 5442);

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

function uidOf(user: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Why this machine cannot run a server of our own (a skip reason), or false. */
export function ownPostgresSkipReason(): string | false {
  if (!binDir()) return 'no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)';
  if (process.getuid?.() !== 0) return 'starting a PostgreSQL server of its own needs root (to run it as the postgres user)';
  if (!uidOf('postgres')) return 'no postgres user on this machine';
  return false;
}

export class OwnPostgres {
  readonly port = PORT;
  private readonly dir: string;
  private readonly bin: string;
  readonly url: string;

  constructor() {
    this.bin = binDir()!;
    this.dir = mkdtempSync(join(tmpdir(), 'warren-own-pg-'));
    const pg = uidOf('postgres')!;
    chownSync(this.dir, pg.uid, pg.gid);
    this.url = `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private run(args: string[], what: string): void {
    const r = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}${r.stdout}`);
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  async init(): Promise<void> {
    this.run([join(this.bin, 'initdb'), '-D', this.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], 'initdb');
    await this.start();
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c max_connections=100`;
    this.run([join(this.bin, 'pg_ctl'), '-D', this.data, '-o', opts, '-l', join(this.dir, 'server.log'), '-w', '-t', '30', 'start'], 'pg_ctl start');
  }

  /** The postmaster's pid, from its own postmaster.pid (undefined when not running). */
  pid(): number | undefined {
    try {
      return Number(readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return undefined;
    }
  }

  /** Stops the server: `fast` ends sessions cleanly, `immediate` is as abrupt as a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (this.pid() === undefined) return;
    this.run([join(this.bin, 'pg_ctl'), '-D', this.data, '-m', mode, '-w', '-t', '30', 'stop'], 'pg_ctl stop');
  }

  /** Stops the server if running and removes its directory. */
  async destroy(): Promise<void> {
    try {
      await this.stop('fast');
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
