import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { caUnusableReason, issueCa, issueServingCert, serviceDnsNames } from "../../src/certs/issue.ts";
import { runCertsCommand } from "../../src/cli/certs.ts";
import type { CliIO } from "../../src/cli/inputs.ts";

function captureIO() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readFile: (p) => readFile(p, "utf8"),
    readStdin: async () => "",
    stdoutIsTTY: false,
  };
  return { io, out, err };
}

describe("certificate issuing", () => {
  const ca = issueCa("test-ca");
  test("the serving cert chains to the CA and covers every service name plus extras", () => {
    const serving = issueServingCert(ca, {
      service: "pullcheck",
      namespace: "pullcheck-system",
      dnsNames: ["webhook.local"],
      ips: ["127.0.0.1"],
      days: 30,
    });
    const cert = new X509Certificate(serving.certPem);
    const caCert = new X509Certificate(ca.certPem);
    assert.ok(cert.verify(caCert.publicKey));
    assert.ok(cert.checkIssued(caCert));
    for (const name of [...serviceDnsNames("pullcheck", "pullcheck-system"), "webhook.local"]) {
      assert.equal(cert.checkHost(name), name, `SAN missing: ${name}`);
    }
    assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(cert.checkHost("pullcheck.other"), undefined);
    assert.equal(caCert.ca, true);
    assert.equal(cert.ca, false);
  });

  test("a CA is unusable when its key belongs to another CA, or it expires soon", () => {
    assert.equal(caUnusableReason(ca), null);
    const other = issueCa("other");
    assert.match(caUnusableReason({ certPem: ca.certPem, keyPem: other.keyPem }) ?? "", /does not belong/);
    const in20Years = new Date(Date.now() + 20 * 365 * 86_400_000);
    assert.match(caUnusableReason(ca, in20Years) ?? "", /expires/);
    assert.match(caUnusableReason({ certPem: "garbage", keyPem: "x" }) ?? "", /does not parse/);
  });
});

describe("pullcheck certs", () => {
  test("writes the files with private keys 0600 and prints only the caBundle on stdout", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "pullcheck-certs-")), "certs");
    const { io, out } = captureIO();
    const code = await runCertsCommand(
      { service: "pullcheck", namespace: "ns", out: dir, dns: [], ip: ["127.0.0.1"], days: 365 },
      io,
    );
    assert.equal(code, 0);
    const caPem = await readFile(join(dir, "ca.crt"), "utf8");
    assert.equal(out.join("").trim(), Buffer.from(caPem).toString("base64"));
    assert.equal((await stat(join(dir, "tls.key"))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "ca.key"))).mode & 0o777, 0o600);
  });

  test("running again reuses the CA instead of silently replacing it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pullcheck-certs-"));
    const first = captureIO();
    await runCertsCommand({ service: "s", namespace: "n", out: dir, dns: [], ip: [], days: 1 }, first.io);
    const tlsBefore = await readFile(join(dir, "tls.crt"), "utf8");
    const second = captureIO();
    await runCertsCommand({ service: "s", namespace: "n", out: dir, dns: [], ip: [], days: 1 }, second.io);
    assert.equal(second.out.join(""), first.out.join(""));
    assert.match(second.err.join(""), /reusing the CA/);
    assert.notEqual(await readFile(join(dir, "tls.crt"), "utf8"), tlsBefore);
  });

  test("a broken CA in the output directory is an error, not an overwrite", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pullcheck-certs-"));
    await writeFile(join(dir, "ca.crt"), "not a cert");
    await writeFile(join(dir, "ca.key"), "not a key");
    const { io } = captureIO();
    await assert.rejects(
      runCertsCommand({ service: "s", namespace: "n", out: dir, dns: [], ip: [], days: 1 }, io),
      /does not parse; remove ca\.crt and ca\.key/,
    );
    assert.equal(await readFile(join(dir, "ca.crt"), "utf8"), "not a cert");
  });

  test("an --ip that is not an address is refused", async () => {
    const { io } = captureIO();
    await assert.rejects(
      runCertsCommand(
        { service: "s", namespace: "n", out: tmpdir(), dns: [], ip: ["localhost"], days: 1 },
        io,
      ),
      /--ip localhost: not an IP address/,
    );
  });
});
