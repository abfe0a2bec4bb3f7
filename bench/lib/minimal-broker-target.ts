// The minimal broker (support/minimal-broker.ts) as its own process, started and stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HttpTarget } from './http.ts';
import { cpuTimes, rssMb } from './proc.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class MinimalBrokerTarget {
  private constructor(readonly child: ChildProcess, readonly url: string, readonly osb: HttpTarget) {}

  static async start(mgmtOrigin: string, mgmtAuth: string, userTags: string): Promise<MinimalBrokerTarget> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/minimal-broker.ts'], {
      cwd: ROOT,
      env: { ...process.env, MGMT_ORIGIN: mgmtOrigin, MGMT_AUTH: mgmtAuth, USER_TAGS: userTags },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`minimal broker did not start\n${stderr.join('')}`)), 20_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const rec = JSON.parse(line) as { listen?: string };
          if (rec.listen) {
            clearTimeout(timer);
            resolve(`http://${rec.listen}`);
          }
        } catch {
          /* not JSON */
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`minimal broker exited with ${code}\n${stderr.join('')}`));
      });
    });
    return new MinimalBrokerTarget(child, url, new HttpTarget(new URL(url).origin, { 'content-type': 'application/json' }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  cpuTimes(): { user: number; sys: number } {
    return cpuTimes(this.pid);
  }

  rss(): number {
    return rssMb(this.pid);
  }

  async bind(vhost: string, bindingId: string): Promise<void> {
    await this.osb.expect([201], 'PUT', `/v2/service_instances/${vhost}/service_bindings/${bindingId}`, '{}');
  }

  async unbind(vhost: string, bindingId: string): Promise<void> {
    await this.osb.expect([200], 'DELETE', `/v2/service_instances/${vhost}/service_bindings/${bindingId}`);
  }

  async stop(): Promise<number | null> {
    await this.osb.close().catch(() => undefined);
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve(this.child.exitCode);
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.once('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
      this.child.kill('SIGTERM');
    });
  }
}
