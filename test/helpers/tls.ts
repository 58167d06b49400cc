// Throwaway TLS material for tests, made by the `openssl` CLI at test time in
// a temp folder (nothing checked in that could expire or be reused): a CA,
// and server certificates it signs for the names asked for. EC keys because
// they are made in milliseconds, where RSA would slow every run.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { sh } from './fleet.js';

export interface Cert {
  key: string;
  cert: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA in `dir` (ca.pem, ca.key): what an organisation's private CA is. */
export function makeCa(dir: string, name = 'ca'): Cert {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  sh('openssl', [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=gitfleet test ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { key, cert };
}

/** A server certificate signed by `ca` for `names` (DNS names and IP addresses), as a forge would have. */
export function makeServerCert(dir: string, ca: Cert, file: string, names: string[]): Cert {
  const key = path.join(dir, `${file}.key`);
  const csr = path.join(dir, `${file}.csr`);
  const cert = path.join(dir, `${file}.pem`);
  const ext = path.join(dir, `${file}.ext`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(
    ext,
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
  );
  sh('openssl', ['req', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${names[0]}`]);
  sh('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { key, cert };
}
