import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { defaultConfig, validateConfig } from "../../src/config/schema.ts";

describe("config validation", () => {
  test("an empty document yields every PRODUCT.md default", () => {
    const config = defaultConfig();
    assert.equal(config.mode, "enforce");
    assert.equal(config.onRegistryError, "warn");
    assert.equal(config.timeoutMs, 8000);
    assert.deepEqual(config.platforms, []);
    assert.deepEqual(config.cache, { ttlSeconds: 300, negativeTtlSeconds: 30, maxEntries: 10000 });
    assert.deepEqual(config.registries, {});
    assert.deepEqual(config.exclude, []);
    assert.deepEqual(config.audit, { file: "" });
    assert.deepEqual(config.listen, { host: "0.0.0.0", port: 8443 });
    assert.deepEqual(config.tls, { certFile: "certs/tls.crt", keyFile: "certs/tls.key", reloadSeconds: 5 });
  });

  test("the PRODUCT.md example validates and keeps registry settings per key", () => {
    const result = validateConfig({
      mode: "warn",
      platforms: ["linux/amd64", "linux/arm64"],
      registries: {
        "registry.internal:5000": { insecure: true },
        "harbor.example.com": { caFile: "/etc/pullcheck/harbor-ca.crt" },
        "*.dkr.ecr.*.amazonaws.com": { nodeCredentials: true },
        "mirror-only.example.com": { skip: true },
      },
    });
    assert.ok(result.ok);
    assert.equal(result.config.registries["registry.internal:5000"]?.insecure, true);
    assert.equal(result.config.registries["*.dkr.ecr.*.amazonaws.com"]?.nodeCredentials, true);
    assert.equal(result.config.registries["mirror-only.example.com"]?.skip, true);
    assert.ok(Object.isFrozen(result.config.registries));
  });

  test("every problem is reported at once, each naming its key", () => {
    const result = validateConfig({
      mode: "block",
      timeoutMs: "8s",
      cache: { ttlSeconds: -1, ttl: 5 },
      registries: { "r.example.com": { insecur: true } },
      platforms: ["amd64"],
      colour: "blue",
    });
    assert.equal(result.ok, false);
    if (result.ok) return;
    const text = result.problems.join("\n");
    for (const key of [
      "mode",
      "timeoutMs",
      "cache.ttlSeconds",
      "cache.ttl",
      "registries.r.example.com.insecur",
      "platforms.0",
      "colour",
    ]) {
      assert.match(
        text,
        new RegExp(`^${key.replaceAll(".", "\\.")}: `, "m"),
        `no problem names ${key}:\n${text}`,
      );
    }
    assert.match(text, /colour: unknown key/);
  });

  test("timeoutMs must stay below the API server's 30 s webhook ceiling", () => {
    assert.equal(validateConfig({ timeoutMs: 30_000 }).ok, false);
    assert.equal(validateConfig({ timeoutMs: 29_000 }).ok, true);
  });
});

describe("loadConfig", () => {
  test("names the file in every problem, and says when the YAML itself is broken", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pullcheck-config-"));
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "mode: [\n");
    const broken = await loadConfig(bad);
    assert.equal(broken.ok, false);
    if (!broken.ok) assert.match(broken.problems[0] ?? "", /bad\.yaml: not valid YAML/);

    const unknown = join(dir, "unknown.yaml");
    await writeFile(unknown, "mode: warn\nfoo: 1\n");
    const result = await loadConfig(unknown);
    assert.equal(result.ok, false);
    if (!result.ok) assert.deepEqual(result.problems, [`${unknown}: foo: unknown key`]);

    const missing = await loadConfig(join(dir, "missing.yaml"));
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.match(missing.problems[0] ?? "", /cannot read config file \(ENOENT\)/);

    const list = join(dir, "list.yaml");
    await writeFile(list, "- a\n");
    const notMapping = await loadConfig(list);
    assert.equal(notMapping.ok, false);
  });
});
