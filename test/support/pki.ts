/** Test PKI: a CA and a certificate it signs, made with openssl in a temporary directory. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** File paths of a CA certificate and of a certificate and key it signed. */
export interface Pki {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Makes a CA and a certificate it signs (SAN 127.0.0.1, server and client use) with openssl. */
export function makePki(dir: string, name: string): Pki {
  const p = (f: string): string => path.join(dir, `${name}-${f}`);
  const run = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', `/CN=${name}-ca`);
  run('req', ...ec, '-keyout', p('node.key'), '-out', p('node.csr'), '-subj', `/CN=${name}-node`);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  run('x509', '-req', '-in', p('node.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('node.crt'), '-days', '2', '-extfile', p('ext.cnf'));
  return { ca: p('ca.crt'), cert: p('node.crt'), key: p('node.key') };
}
