// A certificate authority made at test time with openssl: a CA, server certificates for
// localhost/127.0.0.1 and client certificates, as PEM files in a directory of the caller's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** PEM file of the CA certificate. */
  caFile: string;
  /** Issues a certificate signed by this CA; returns its cert and key files. */
  issue(name: string, opts?: { kind?: 'server' | 'client'; days?: number }): { certFile: string; keyFile: string };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA named `name` in `dir` (created). `serialBase` keeps serials of several CAs apart. */
export function createTestCa(dir: string, name = 'warren test CA'): TestCa {
  mkdirSync(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  let serial = 0;
  return {
    dir,
    caFile,
    issue(certName, opts = {}) {
      const kind = opts.kind ?? 'server';
      const keyFile = join(dir, `${certName}.key`);
      const csr = join(dir, `${certName}.csr`);
      const certFile = join(dir, `${certName}.pem`);
      const ext = join(dir, `${certName}.ext`);
      writeFileSync(ext, kind === 'server'
        ? 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n'
        : 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${certName}`], dir);
      serial += 1;
      openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', String(Date.now() * 100 + serial),
        '-out', certFile, '-days', String(opts.days ?? 2), '-extfile', ext], dir);
      return { certFile, keyFile };
    },
  };
}

export const pem = (file: string): Buffer => readFileSync(file);
