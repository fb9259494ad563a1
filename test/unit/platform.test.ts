import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  acceptedPlatforms,
  formatPlatform,
  type IndexEntry,
  missingPlatforms,
  normalizePlatform,
  parseIndex,
  parsePlatform,
  platformMatches,
} from "../../src/registry/platform.ts";
import type { Platform } from "../../src/registry/types.ts";

function p(s: string): Platform {
  const parsed = parsePlatform(s);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed;
}

/** An index entry's platform as written by a registry (not normalized). */
function raw(s: string): Platform {
  const [os = "", architecture = "", variant] = s.split("/");
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

describe("parsePlatform / formatPlatform (containerd normalization)", () => {
  const cases: [input: string, formatted: string][] = [
    ["linux/amd64", "linux/amd64"],
    ["linux/x86_64", "linux/amd64"],
    ["linux/x86-64", "linux/amd64"],
    ["linux/amd64/v1", "linux/amd64"],
    ["linux/amd64/v3", "linux/amd64/v3"],
    ["linux/i386", "linux/386"],
    ["linux/arm64", "linux/arm64"],
    ["linux/arm64/v8", "linux/arm64"],
    ["linux/arm64/8", "linux/arm64"],
    ["linux/arm64/v8.0", "linux/arm64"],
    ["linux/aarch64", "linux/arm64"],
    ["linux/arm64/9", "linux/arm64/v9"],
    ["linux/armhf", "linux/arm/v7"],
    ["linux/armel", "linux/arm/v6"],
    ["linux/arm", "linux/arm/v7"],
    ["linux/arm/7", "linux/arm/v7"],
    ["linux/arm/6", "linux/arm/v6"],
    ["linux/arm/v5", "linux/arm/v5"],
    ["Linux/AMD64", "linux/amd64"],
    ["macos/arm64", "darwin/arm64"],
    ["linux/s390x", "linux/s390x"],
    [" linux/ppc64le ", "linux/ppc64le"],
  ];
  for (const [input, formatted] of cases) {
    test(`"${input}" normalizes to ${formatted}`, () => assert.equal(formatPlatform(p(input)), formatted));
  }

  const invalid = ["", "linux", "amd64", "linux/", "/amd64", "linux/amd64/v8/x", "linux/am d64", "linux//v7"];
  for (const input of invalid) {
    test(`"${input}" is rejected with a reason`, () => {
      const parsed = parsePlatform(input);
      assert.ok("error" in parsed, `expected an error for ${JSON.stringify(input)}`);
      assert.match(parsed.error, /platform/);
    });
  }
});

describe("acceptedPlatforms (containerd platformVector)", () => {
  const cases: [required: string, accepted: string[]][] = [
    ["linux/amd64", ["linux/amd64", "linux/386"]],
    ["linux/amd64/v3", ["linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"]],
    ["linux/arm64", ["linux/arm64", "linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]],
    ["linux/arm/v7", ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]],
    ["linux/arm/v5", ["linux/arm/v5"]],
    ["linux/s390x", ["linux/s390x"]],
  ];
  for (const [required, accepted] of cases) {
    test(`${required} accepts ${accepted.join(", ")}`, () => {
      assert.deepEqual(acceptedPlatforms(p(required)).map(formatPlatform), accepted);
    });
  }
});

describe("platformMatches", () => {
  const cases: [required: string, entry: string | undefined, matches: boolean][] = [
    ["linux/amd64", "linux/amd64", true],
    ["linux/amd64", "linux/386", true],
    ["linux/amd64", "linux/arm64", false],
    ["linux/386", "linux/amd64", false],
    ["linux/amd64", "linux/amd64/v3", false],
    ["linux/amd64", "linux/x86_64", true],
    ["linux/arm64", "linux/arm64/v8", true],
    ["linux/arm64/v8", "linux/arm64", true],
    ["linux/arm64", "linux/arm/v7", true],
    ["linux/arm64", "linux/arm/v5", true],
    ["linux/arm64", "linux/arm", true],
    ["linux/arm/v7", "linux/arm/v6", true],
    ["linux/arm/v7", "linux/arm64", false],
    ["linux/arm/v6", "linux/arm/v7", false],
    ["linux/arm/v7", "linux/armhf", true],
    ["linux/amd64", "windows/amd64", false],
    ["linux/amd64", "unknown/unknown", false],
    ["linux/s390x", undefined, true],
  ];
  for (const [required, entry, matches] of cases) {
    test(`${required} ${matches ? "matches" : "does not match"} an entry ${entry ?? "without platform"}`, () => {
      assert.equal(platformMatches(p(required), entry === undefined ? undefined : raw(entry)), matches);
    });
  }

  test("an entry with an empty os counts as the node's os", () => {
    assert.equal(platformMatches(p("linux/amd64"), { os: "", architecture: "amd64" }), true);
  });

  test("normalizePlatform drops an empty variant", () => {
    assert.deepEqual(normalizePlatform({ os: "linux", architecture: "amd64", variant: "" }), {
      os: "linux",
      architecture: "amd64",
    });
  });
});

describe("parseIndex", () => {
  test("reads entries with and without platforms", () => {
    const parsed = parseIndex({
      schemaVersion: 2,
      manifests: [
        { mediaType: "m", digest: "sha256:a", platform: { os: "linux", architecture: "arm", variant: "v7" } },
        { mediaType: "m", digest: "sha256:b" },
      ],
    });
    assert.deepEqual(parsed, {
      ok: true,
      entries: [
        { mediaType: "m", digest: "sha256:a", platform: { os: "linux", architecture: "arm", variant: "v7" } },
        { mediaType: "m", digest: "sha256:b" },
      ],
    });
  });

  const bad: [name: string, body: unknown][] = [
    ["null", null],
    ["a string", "index"],
    ["an object without manifests", { schemaVersion: 2 }],
    ["manifests that is not a list", { manifests: {} }],
    ["an entry that is not an object", { manifests: [1] }],
    ["a platform that is not an object", { manifests: [{ platform: "linux/amd64" }] }],
  ];
  for (const [name, body] of bad) {
    test(`refuses ${name}`, () => assert.equal(parseIndex(body).ok, false));
  }
});

describe("missingPlatforms", () => {
  const entries = (...platforms: (string | undefined)[]): IndexEntry[] =>
    platforms.map((s) => ({
      mediaType: null,
      digest: null,
      ...(s === undefined ? {} : { platform: raw(s) }),
    }));

  const cases: [name: string, required: string[], index: IndexEntry[], missing: string[]][] = [
    [
      "an amd64+arm64 index lacks s390x",
      ["linux/s390x"],
      entries("linux/amd64", "linux/arm64"),
      ["linux/s390x"],
    ],
    [
      "an amd64+arm64 index has both",
      ["linux/amd64", "linux/arm64"],
      entries("linux/amd64", "linux/arm64"),
      [],
    ],
    [
      "an amd64-only index lacks arm64",
      ["linux/amd64", "linux/arm64"],
      entries("linux/amd64"),
      ["linux/arm64"],
    ],
    ["a 386 entry serves amd64 nodes", ["linux/amd64"], entries("linux/386"), []],
    ["an arm/v7 entry serves arm64 nodes", ["linux/arm64"], entries("linux/arm/v7"), []],
    ["an attestation entry serves nothing", ["linux/amd64"], entries("unknown/unknown"), ["linux/amd64"]],
    ["an entry without platform serves everything", ["linux/amd64", "linux/s390x"], entries(undefined), []],
    ["an empty index serves nothing", ["linux/amd64"], entries(), ["linux/amd64"]],
  ];
  for (const [name, required, index, missing] of cases) {
    test(name, () => {
      assert.deepEqual(missingPlatforms(required.map(p), index).map(formatPlatform), missing);
    });
  }
});
