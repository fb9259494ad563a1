import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

/** A throwaway certificate authority for one test process. */
export interface TestCa {
  readonly certPem: string;
  readonly keyPem: string;
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
}

export interface CertPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ServerCertOptions {
  /** IP SANs; default ["127.0.0.1"]. Given values replace the default. */
  ips?: string[];
  /** DNS SANs; default ["localhost"]. Given values replace the default. */
  dnsNames?: string[];
  /** Default: one hour ago. */
  notBefore?: Date;
  /** Default: one day from now. */
  notAfter?: Date;
  /** Default: "127.0.0.1". */
  commonName?: string;
  /** Extended key usage serverAuth; default true. Token-signing certs don't need it. */
  serverAuth?: boolean;
}

const HOUR_MS = 3_600_000;

// node:crypto generates RSA keys in milliseconds; node-forge's pure-JS keygen takes seconds.
function rsaKey(): { pem: string; key: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return { pem, key: forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey };
}

function publicKeyOf(key: forge.pki.rsa.PrivateKey): forge.pki.rsa.PublicKey {
  return forge.pki.setRsaPublicKey(key.n, key.e);
}

// A leading 0x01 keeps the DER INTEGER positive: Go's x509 rejects negative serials.
function serialNumber(): string {
  return `01${randomBytes(15).toString("hex")}`;
}

export function makeCa(options: { commonName?: string } = {}): TestCa {
  const { pem, key } = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKeyOf(key);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - HOUR_MS);
  cert.validity.notAfter = new Date(Date.now() + 24 * HOUR_MS);
  const name = [{ name: "commonName", value: options.commonName ?? "pullcheck test CA" }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: pem, cert, key };
}

/** A leaf certificate signed by `ca`, SANs IP:127.0.0.1 + DNS:localhost unless overridden. */
export function makeServerCert(ca: TestCa, options: ServerCertOptions = {}): CertPair {
  const { pem, key } = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKeyOf(key);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - HOUR_MS);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 24 * HOUR_MS);
  cert.setSubject([{ name: "commonName", value: options.commonName ?? "127.0.0.1" }]);
  cert.setIssuer(ca.cert.subject.attributes);
  const altNames = [
    ...(options.ips ?? ["127.0.0.1"]).map((ip) => ({ type: 7, ip })),
    ...(options.dnsNames ?? ["localhost"]).map((value) => ({ type: 2, value })),
  ];
  const extensions: object[] = [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (options.serverAuth ?? true) extensions.push({ name: "extKeyUsage", serverAuth: true });
  if (altNames.length > 0) extensions.push({ name: "subjectAltName", altNames });
  cert.setExtensions(extensions);
  cert.sign(ca.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: pem };
}

/** A certificate for 127.0.0.1 that expired an hour ago (for tls-error tests). */
export function makeExpiredServerCert(ca: TestCa): CertPair {
  return makeServerCert(ca, {
    notBefore: new Date(Date.now() - 48 * HOUR_MS),
    notAfter: new Date(Date.now() - HOUR_MS),
  });
}

/** A valid certificate whose SANs do not cover 127.0.0.1 or localhost (for tls-error tests). */
export function makeWrongHostServerCert(ca: TestCa): CertPair {
  return makeServerCert(ca, {
    ips: ["192.0.2.1"],
    dnsNames: ["wrong-host.invalid"],
    commonName: "wrong-host",
  });
}

/** Standard base64 of the DER encoding, as JWT `x5c` wants it. */
export function certDerBase64(certPem: string): string {
  const cert = forge.pki.certificateFromPem(certPem);
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  return Buffer.from(der, "binary").toString("base64");
}
