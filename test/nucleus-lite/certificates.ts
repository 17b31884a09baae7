/**
 * A throwaway PKI made with the openssl command line: a root CA, a server certificate for `localhost` (the broker
 * standing in for AWS IoT Core and the data plane stand-in), and client certificates for the core's thing and for the
 * Device Defender responder. All of it lives in the run's temporary folder and goes with it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TOOLS } from './lite-build';

interface KeyPair {
  cert: string;
  key: string;
}

export interface Certificates {
  caFile: string;
  server: KeyPair;
  thing: KeyPair;
  responder: KeyPair;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(TOOLS.openssl, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKeyAndRequest(dir: string, name: string, commonName: string): void {
  openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${commonName}`,
    ],
    dir,
  );
}

function sign(dir: string, name: string, extensions?: string): KeyPair {
  const args = [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
  ];
  if (extensions) {
    fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
    args.push('-extfile', `${name}.ext`);
  }
  openssl(args, dir);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

export function makeCertificates(dir: string, thingName: string): Certificates {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Nucleus lite test CA',
    ],
    dir,
  );
  newKeyAndRequest(dir, 'server', 'localhost');
  newKeyAndRequest(dir, 'thing', thingName);
  newKeyAndRequest(dir, 'responder', 'device-defender-responder');
  return {
    caFile: path.join(dir, 'ca.pem'),
    server: sign(dir, 'server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n'),
    thing: sign(dir, 'thing'),
    responder: sign(dir, 'responder'),
  };
}
