import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

/**
 * Certificates for the webhook, made with node-forge (key generation is delegated to
 * node:crypto, which is much faster than forge's pure-JS RSA). Pure apart from
 * randomness: no file IO here.
 */

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ServingCertRequest {
  readonly service: string;
  readonly namespace: string;
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
  readonly days: number;
  readonly now?: Date;
}

const CA_DAYS = 3650;

function newRsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const forgeKey = forge.pki.privateKeyFromPem(
    privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
  );
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function serialNumber(): string {
  // Positive 128-bit serial: clear the top bit so DER doesn't read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate small clock skew
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
}

export function issueCa(commonName: string, now: Date = new Date()): KeyPairPem {
  const keys = newRsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, CA_DAYS);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** DNS names a Service is reached by, short to fully qualified. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

export function issueServingCert(ca: KeyPairPem, request: ServingCertRequest): KeyPairPem {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = newRsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, request.now ?? new Date(), request.days);
  const dnsNames = [
    ...new Set([...serviceDnsNames(request.service, request.namespace), ...(request.dnsNames ?? [])]),
  ];
  cert.setSubject([{ name: "commonName", value: `${request.service}.${request.namespace}.svc` }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        ...dnsNames.map((value) => ({ type: 2, value })),
        ...(request.ips ?? []).map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** Why a CA pair can't be reused, or null when it can (parses, is a CA, key matches, valid for ≥ 30 days). */
export function caUnusableReason(ca: KeyPairPem, now: Date = new Date()): string | null {
  let cert: forge.pki.Certificate;
  let key: forge.pki.rsa.PrivateKey;
  try {
    cert = forge.pki.certificateFromPem(ca.certPem);
    key = forge.pki.privateKeyFromPem(ca.keyPem);
  } catch {
    return "the CA certificate or key does not parse";
  }
  const constraints = cert.getExtension("basicConstraints") as { cA?: boolean } | undefined;
  if (!constraints?.cA) return "the certificate is not a CA";
  const publicKey = cert.publicKey as forge.pki.rsa.PublicKey;
  if (publicKey.n.compareTo(key.n) !== 0) return "the CA key does not belong to the CA certificate";
  if (cert.validity.notAfter.getTime() < now.getTime() + 30 * 86_400_000)
    return "the CA expires within 30 days";
  if (cert.validity.notBefore.getTime() > now.getTime()) return "the CA is not valid yet";
  return null;
}
