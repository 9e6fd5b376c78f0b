// The throw-away PKI envtest makes for its apiserver: a CA, a serving certificate for
// 127.0.0.1/localhost, an admin client certificate in system:masters (so RBAC is on but the
// harness itself is never denied), and the service-account signing key. Made with the
// openssl CLI (P-256 keys: fast to generate, accepted everywhere in Kubernetes).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths of the PEM files, all inside `dir`. */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** Signs service-account tokens (PKCS#8 EC private key) … */
  serviceAccountKey: string;
  /** … and verifies them. */
  serviceAccountPublicKey: string;
}

const DAYS = '30';

interface CertSpec {
  subject: string;
  key: string;
  cert: string;
  /** `-addext` values. */
  extensions: readonly string[];
  /** Issuer; self-signed when absent. */
  signer?: { cert: string; key: string };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        'openssl not found: the test bed makes its certificates with the openssl CLI (apt-get install openssl)',
        { cause: err },
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** A new P-256 key and a certificate for it, in one `openssl req -x509`. */
function makeCert({ subject, key, cert, extensions, signer }: CertSpec): Promise<void> {
  // prettier-ignore
  return openssl([
    'req', '-x509', '-noenc', '-days', DAYS,
    // Only the extensions we list, not the distribution's openssl.cnf defaults (v3_ca).
    '-config', '/dev/null',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-subj', subject, '-keyout', key, '-out', cert,
    ...(signer ? ['-CA', signer.cert, '-CAkey', signer.key] : []),
    ...extensions.flatMap((ext) => ['-addext', ext]),
  ]);
}

export async function makePki(dir: string): Promise<Pki> {
  const at = (file: string) => join(dir, file);
  const pki: Pki = {
    dir,
    caCert: at('ca.crt'),
    caKey: at('ca.key'),
    servingCert: at('apiserver.crt'),
    servingKey: at('apiserver.key'),
    adminCert: at('admin.crt'),
    adminKey: at('admin.key'),
    serviceAccountKey: at('sa.key'),
    serviceAccountPublicKey: at('sa.pub'),
  };
  await makeCert({
    subject: '/CN=llm-tenancy-testenv-ca',
    key: pki.caKey,
    cert: pki.caCert,
    extensions: [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier=hash',
    ],
  });
  const signer = { cert: pki.caCert, key: pki.caKey };
  await Promise.all([
    makeCert({
      subject: '/CN=kube-apiserver',
      key: pki.servingKey,
      cert: pki.servingCert,
      signer,
      extensions: [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
    }),
    makeCert({
      subject: '/O=system:masters/CN=admin',
      key: pki.adminKey,
      cert: pki.adminCert,
      signer,
      extensions: [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=clientAuth',
      ],
    }),
    (async () => {
      const key = pki.serviceAccountKey;
      await openssl([
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-out',
        key,
      ]);
      await openssl(['pkey', '-in', key, '-pubout', '-out', pki.serviceAccountPublicKey]);
    })(),
  ]);
  return pki;
}
