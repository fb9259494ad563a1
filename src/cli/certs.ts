import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { caUnusableReason, issueCa, issueServingCert, type KeyPairPem } from "../certs/issue.ts";
import { type CliIO, InputError } from "./inputs.ts";

export interface CertsOptions {
  readonly service: string;
  readonly namespace: string;
  readonly out: string;
  readonly dns: readonly string[];
  readonly ip: readonly string[];
  readonly days: number;
}

/**
 * `pullcheck certs`: writes ca.crt (+ ca.key, so later runs can re-issue), tls.crt and
 * tls.key (keys 0600), and prints the base64 caBundle on stdout — nothing else goes
 * to stdout, so `$(pullcheck certs …)` captures exactly the bundle. An existing,
 * usable CA is reused rather than silently replaced; an unusable one is an error
 * unless removed by hand.
 */
export async function runCertsCommand(options: CertsOptions, io: CliIO): Promise<number> {
  for (const ip of options.ip) {
    if (isIP(ip) === 0) throw new InputError(`--ip ${ip}: not an IP address`);
  }
  const paths = {
    caCert: join(options.out, "ca.crt"),
    caKey: join(options.out, "ca.key"),
    cert: join(options.out, "tls.crt"),
    key: join(options.out, "tls.key"),
  };
  try {
    await mkdir(options.out, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new InputError(
      `${options.out}: cannot create directory (${(error as NodeJS.ErrnoException).code})`,
    );
  }

  const existing = await readPair(paths.caCert, paths.caKey);
  let ca: KeyPairPem;
  if (existing === "partial") {
    throw new InputError(
      `${options.out} holds only one of ca.crt and ca.key; remove it or restore the other file`,
    );
  } else if (existing) {
    const reason = caUnusableReason(existing);
    if (reason) {
      throw new InputError(`${paths.caCert}: ${reason}; remove ca.crt and ca.key to create a new CA`);
    }
    ca = existing;
    io.stderr(`pullcheck certs: reusing the CA in ${paths.caCert}\n`);
  } else {
    ca = issueCa(`pullcheck-ca ${options.service}.${options.namespace}`);
    await writeSecretFile(paths.caKey, ca.keyPem);
    await writeFile(paths.caCert, ca.certPem, { mode: 0o644 });
    io.stderr(`pullcheck certs: created a new CA in ${paths.caCert}\n`);
  }

  const serving = issueServingCert(ca, {
    service: options.service,
    namespace: options.namespace,
    dnsNames: options.dns,
    ips: options.ip,
    days: options.days,
  });
  await writeSecretFile(paths.key, serving.keyPem);
  await writeFile(paths.cert, serving.certPem, { mode: 0o644 });
  io.stderr(`pullcheck certs: wrote ${paths.cert} and ${paths.key}; caBundle follows on stdout\n`);
  io.stdout(`${Buffer.from(ca.certPem).toString("base64")}\n`);
  return 0;
}

async function readPair(certPath: string, keyPath: string): Promise<KeyPairPem | "partial" | null> {
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (certPem === null && keyPem === null) return null;
  if (certPem === null || keyPem === null) return "partial";
  return { certPem, keyPem };
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new InputError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
}

async function writeSecretFile(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600); // mode applies only on create; an existing file keeps its old mode otherwise
}
