import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  canonicalName,
  familiarName,
  MAX_REFERENCE_LENGTH,
  parseReference,
} from "../../src/reference/parse.ts";
import type { ImageReference } from "../../src/reference/types.ts";

// Vectors come from distribution/reference normalize_test.go and reference_test.go and
// kubernetes pkg/util/parsers/parsers_test.go (inputs and outcomes), plus REGISTRY.md §1.
// The expected tag is what containerd pulls: "latest" when none is written, dropped when a digest is.

const SHA256_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SHA256 = `sha256:${SHA256_HEX}`;
const FFF_SHA256 = `sha256:${"f".repeat(64)}`;
const SHA384 = `sha384:${"a".repeat(96)}`;
const SHA512 = `sha512:${"f".repeat(128)}`;
const DBCC = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";

function parseOk(input: string): ImageReference {
  const parsed = parseReference(input);
  if (!parsed.ok) assert.fail(`expected ${JSON.stringify(input)} to parse, got: ${parsed.reason}`);
  return parsed.reference;
}

function parseError(input: string): string {
  const parsed = parseReference(input);
  if (parsed.ok)
    assert.fail(`expected ${JSON.stringify(input)} to be refused, got ${JSON.stringify(parsed.reference)}`);
  return parsed.reason;
}

interface ValidCase {
  readonly name: string;
  readonly input: string;
  readonly registry: string;
  readonly repository: string;
  readonly tag: string | null;
  readonly digest?: string;
}

const validCases: readonly ValidCase[] = [
  // Docker Hub short forms
  {
    name: "a single name is an official Docker Hub image tagged latest",
    input: "nginx",
    registry: "docker.io",
    repository: "library/nginx",
    tag: "latest",
  },
  {
    name: "a single name keeps the tag it was given",
    input: "nginx:1.25",
    registry: "docker.io",
    repository: "library/nginx",
    tag: "1.25",
  },
  {
    name: "library/ written out is the same official image",
    input: "library/nginx",
    registry: "docker.io",
    repository: "library/nginx",
    tag: "latest",
  },
  {
    name: "docker.io/ with a single name gains library/",
    input: "docker.io/nginx",
    registry: "docker.io",
    repository: "library/nginx",
    tag: "latest",
  },
  {
    name: "index.docker.io is rewritten to docker.io",
    input: "index.docker.io/library/nginx",
    registry: "docker.io",
    repository: "library/nginx",
    tag: "latest",
  },
  {
    name: "index.docker.io with a single name also gains library/",
    input: "index.docker.io/debian",
    registry: "docker.io",
    repository: "library/debian",
    tag: "latest",
  },
  {
    name: "registry-1.docker.io is another registry and gets no library/ prefix",
    input: "registry-1.docker.io/nginx",
    registry: "registry-1.docker.io",
    repository: "nginx",
    tag: "latest",
  },
  {
    name: "a two-segment name without a dot is a Docker Hub user repository",
    input: "user/repo:tag",
    registry: "docker.io",
    repository: "user/repo",
    tag: "tag",
  },
  {
    name: "docker/migrator stays on Docker Hub",
    input: "docker/migrator",
    registry: "docker.io",
    repository: "docker/migrator",
    tag: "latest",
  },
  {
    name: "an underscore in the first segment keeps it a Docker Hub namespace",
    input: "test_com/foo",
    registry: "docker.io",
    repository: "test_com/foo",
    tag: "latest",
  },
  {
    name: "a deeper Docker Hub path under library/ is kept as written",
    input: "docker.io/library/foo/bar",
    registry: "docker.io",
    repository: "library/foo/bar",
    tag: "latest",
  },
  {
    name: "a repository called library under another namespace is left alone",
    input: "other/library",
    registry: "docker.io",
    repository: "other/library",
    tag: "latest",
  },
  {
    name: "a tag may contain uppercase letters",
    input: "lowercase:Uppercase",
    registry: "docker.io",
    repository: "library/lowercase",
    tag: "Uppercase",
  },
  {
    name: "a 64-character name that is not all hex is allowed",
    input: "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    registry: "docker.io",
    repository: "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    tag: "latest",
  },
  {
    name: "a 63-character hex name is an ordinary name",
    input: DBCC.slice(0, 63),
    registry: "docker.io",
    repository: `library/${DBCC.slice(0, 63)}`,
    tag: "latest",
  },
  {
    name: "a 64-hex name with a tag is an ordinary name",
    input: `${SHA256_HEX}:tag`,
    registry: "docker.io",
    repository: `library/${SHA256_HEX}`,
    tag: "tag",
  },
  {
    name: "a 64-hex name under docker.io is an ordinary official image",
    input: `docker.io/${DBCC}`,
    registry: "docker.io",
    repository: `library/${DBCC}`,
    tag: "latest",
  },

  // Strings that look like hosts but have no slash are Docker Hub names
  {
    name: "localhost:5000 without a slash is the Docker Hub image localhost with tag 5000",
    input: "localhost:5000",
    registry: "docker.io",
    repository: "library/localhost",
    tag: "5000",
  },
  {
    name: "example.com without a slash is the Docker Hub image library/example.com",
    input: "example.com",
    registry: "docker.io",
    repository: "library/example.com",
    tag: "latest",
  },
  {
    name: "test.com:tag is a Docker Hub image with a tag",
    input: "test.com:tag",
    registry: "docker.io",
    repository: "library/test.com",
    tag: "tag",
  },
  {
    name: "an IPv4 address without a slash is a Docker Hub image",
    input: "192.168.1.1",
    registry: "docker.io",
    repository: "library/192.168.1.1",
    tag: "latest",
  },
  {
    name: "an IPv4 address and port without a slash is a Docker Hub image with a numeric tag",
    input: "192.168.0.1:80",
    registry: "docker.io",
    repository: "library/192.168.0.1",
    tag: "80",
  },
  {
    name: "a name with an underscore and dot is a Docker Hub image with a numeric tag",
    input: "foo_bar.com:8080",
    registry: "docker.io",
    repository: "library/foo_bar.com",
    tag: "8080",
  },
  {
    name: "a dotted last segment under a Docker Hub namespace is a path component",
    input: "foo/foo_bar.com:8080",
    registry: "docker.io",
    repository: "foo/foo_bar.com",
    tag: "8080",
  },

  // Registries
  {
    name: "localhost is a domain",
    input: "localhost/foo",
    registry: "localhost",
    repository: "foo",
    tag: "latest",
  },
  {
    name: "localhost with a port is a domain and the tag follows the path",
    input: "localhost:5000/foo:bar",
    registry: "localhost:5000",
    repository: "foo",
    tag: "bar",
  },
  {
    name: "a dotted first segment is a domain",
    input: "test.com/foo",
    registry: "test.com",
    repository: "foo",
    tag: "latest",
  },
  {
    name: "a first segment with a port is a domain even without a dot",
    input: "url:5000/repo:tag",
    registry: "url:5000",
    repository: "repo",
    tag: "tag",
  },
  {
    name: "a hyphenated host with a port is a domain",
    input: "test-com:8080/foo",
    registry: "test-com:8080",
    repository: "foo",
    tag: "latest",
  },
  {
    name: "a punycode host is a domain",
    input: "xn--n3h.com:18080/foo",
    registry: "xn--n3h.com:18080",
    repository: "foo",
    tag: "latest",
  },
  {
    name: "an IPv4 registry with a port and a nested path",
    input: "127.0.0.1:5000/a/b",
    registry: "127.0.0.1:5000",
    repository: "a/b",
    tag: "latest",
  },
  {
    name: "a single-digit port is a port",
    input: "192.168.0.1:8/debian",
    registry: "192.168.0.1:8",
    repository: "debian",
    tag: "latest",
  },
  {
    name: "a numeric tag after a registry with a port",
    input: "192.168.1.1:5000/repo:5050",
    registry: "192.168.1.1:5000",
    repository: "repo",
    tag: "5050",
  },
  {
    name: "a registry other than Docker Hub gets no library/ prefix",
    input: "127.0.0.1:5000/debian",
    registry: "127.0.0.1:5000",
    repository: "debian",
    tag: "latest",
  },
  {
    name: "a bracketed IPv6 loopback with a port is a domain",
    input: "[::1]:5000/a",
    registry: "[::1]:5000",
    repository: "a",
    tag: "latest",
  },
  {
    name: "a bracketed IPv6 address without a port is a domain",
    input: "[2001:db8::1]/repo",
    registry: "[2001:db8::1]",
    repository: "repo",
    tag: "latest",
  },
  {
    name: "a full IPv6 address with a tag",
    input: "[2001:db8:1:2:3:4:5:6]/repo:tag",
    registry: "[2001:db8:1:2:3:4:5:6]",
    repository: "repo",
    tag: "tag",
  },
  {
    name: "an IPv6 address ending in :: is allowed",
    input: "[2001:db8::]:5000/repo",
    registry: "[2001:db8::]:5000",
    repository: "repo",
    tag: "latest",
  },
  {
    name: "an IPv6 registry with a nested path",
    input: "[fc00::1]:5000/docker/docker",
    registry: "[fc00::1]:5000",
    repository: "docker/docker",
    tag: "latest",
  },
  {
    name: "an uppercase first segment is a domain",
    input: "Foo/bar",
    registry: "Foo",
    repository: "bar",
    tag: "latest",
  },
  {
    name: "an all-uppercase first segment is a domain",
    input: "DOCKER/docker",
    registry: "DOCKER",
    repository: "docker",
    tag: "latest",
  },
  {
    name: "an uppercase first segment is a domain even before a tag",
    input: "Uppercase/lowercase:tag",
    registry: "Uppercase",
    repository: "lowercase",
    tag: "tag",
  },
  {
    name: "a differently-cased docker.io is not Docker Hub",
    input: "Docker.io/foo",
    registry: "Docker.io",
    repository: "foo",
    tag: "latest",
  },
  {
    name: "a long path on a deep host with a tag",
    input: "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
    registry: "sub-dom1.foo.com",
    repository: "bar/baz/quux",
    tag: "some-long-tag",
  },
  {
    name: "a tag may look like a host name",
    input: "b.gcr.io/test.example.com/my-app:test.example.com",
    registry: "b.gcr.io",
    repository: "test.example.com/my-app",
    tag: "test.example.com",
  },
  {
    name: "a dotted first segment that is not a valid host is still dialed as the registry",
    input: "foo_bar.com/x",
    registry: "foo_bar.com",
    repository: "x",
    tag: "latest",
  },

  // Path component grammar
  {
    name: "two dots are not allowed but a double underscore is",
    input: "a__b",
    registry: "docker.io",
    repository: "library/a__b",
    tag: "latest",
  },
  {
    name: "a double hyphen is a separator",
    input: "a--b",
    registry: "docker.io",
    repository: "library/a--b",
    tag: "latest",
  },
  {
    name: "many hyphens are one separator",
    input: "docker---rules/docker",
    registry: "docker.io",
    repository: "docker---rules/docker",
    tag: "latest",
  },
  {
    name: "single-character components are allowed",
    input: "d/t",
    registry: "docker.io",
    repository: "d/t",
    tag: "latest",
  },
  {
    name: "a single dot between alphanumerics is a separator",
    input: "ubuntu-12.04-base",
    registry: "docker.io",
    repository: "library/ubuntu-12.04-base",
    tag: "latest",
  },

  // Tags
  {
    name: "a 128-character tag is the longest allowed",
    input: `nginx:${"t".repeat(128)}`,
    registry: "docker.io",
    repository: "library/nginx",
    tag: "t".repeat(128),
  },
  {
    name: "a tag may start with an underscore",
    input: "nginx:_x",
    registry: "docker.io",
    repository: "library/nginx",
    tag: "_x",
  },

  // Digests
  {
    name: "a digest alone leaves the tag empty",
    input: `nginx@${SHA256}`,
    registry: "docker.io",
    repository: "library/nginx",
    tag: null,
    digest: SHA256,
  },
  {
    name: "a tag and a digest keep only the digest",
    input: `nginx:1.25@${SHA256}`,
    registry: "docker.io",
    repository: "library/nginx",
    tag: null,
    digest: SHA256,
  },
  {
    name: "a tag and a digest on a registry with a port keep only the digest",
    input: `url:5000/repo:latest@${SHA256}`,
    registry: "url:5000",
    repository: "repo",
    tag: null,
    digest: SHA256,
  },
  {
    name: "an IPv6 registry with tag and digest keeps only the digest",
    input: `[2001:db8::1]:5000/repo:tag@${FFF_SHA256}`,
    registry: "[2001:db8::1]:5000",
    repository: "repo",
    tag: null,
    digest: FFF_SHA256,
  },
  {
    name: "a sha384 digest is accepted",
    input: `nginx@${SHA384}`,
    registry: "docker.io",
    repository: "library/nginx",
    tag: null,
    digest: SHA384,
  },
  {
    name: "a sha512 digest is accepted",
    input: `xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`,
    registry: "xn--7o8h.com",
    repository: "myimage",
    tag: null,
    digest: SHA512,
  },
  {
    name: "a digest on a user repository",
    input: `dmcgowan/myapp@sha256:${DBCC}`,
    registry: "docker.io",
    repository: "dmcgowan/myapp",
    tag: null,
    digest: `sha256:${DBCC}`,
  },

  // Length limits
  {
    name: "a 255-character Docker Hub path (library/ included) is the longest allowed",
    input: "a".repeat(247),
    registry: "docker.io",
    repository: `library/${"a".repeat(247)}`,
    tag: "latest",
  },
  {
    name: "a 255-character path on another registry is the longest allowed",
    input: `example.com/${"a".repeat(255)}`,
    registry: "example.com",
    repository: "a".repeat(255),
    tag: "latest",
  },
  {
    name: "the tag does not count towards the path limit",
    input: `${"a/".repeat(127)}a:tag-puts-this-over-max`,
    registry: "docker.io",
    repository: `${"a/".repeat(127)}a`,
    tag: "tag-puts-this-over-max",
  },
];

describe("parseReference accepts what the kubelet accepts and normalizes it like containerd", () => {
  for (const c of validCases) {
    test(c.name, () => {
      const reference = parseOk(c.input);
      assert.deepEqual(reference, {
        original: c.input,
        registry: c.registry,
        repository: c.repository,
        tag: c.tag,
        digest: c.digest ?? null,
        name: `${c.registry}/${c.repository}`,
      });
    });
  }
});

interface InvalidCase {
  readonly name: string;
  readonly input: string;
  /** The kubelet's error after `couldn't parse image name "<input>": `. */
  readonly error: string;
}

const FORMAT = "invalid reference format";
const invalidCases: readonly InvalidCase[] = [
  { name: "an empty string", input: "", error: FORMAT },
  { name: "a tag without a name", input: ":tag", error: FORMAT },
  { name: "a digest without a name", input: `@${FFF_SHA256}`, error: FORMAT },
  { name: "a colon with no tag after it", input: "nginx:", error: FORMAT },
  { name: "a URL scheme", input: "http://root", error: FORMAT },
  { name: "a full URL", input: "https://github.com/docker/docker", error: FORMAT },
  { name: "special characters in the path", input: "aa/asdf$$^/aa", error: FORMAT },

  // Case
  {
    name: "an uppercase single name, reported with its library/ prefix",
    input: "UPPER",
    error: `${FORMAT}: repository name (library/UPPER) must be lowercase`,
  },
  {
    name: "an uppercase name before a tag",
    input: "Uppercase:tag",
    error: `${FORMAT}: repository name (library/Uppercase) must be lowercase`,
  },
  {
    name: "an uppercase repository under a Docker Hub namespace",
    input: "foo/Bar",
    error: `${FORMAT}: repository name (foo/Bar) must be lowercase`,
  },
  {
    name: "an uppercase repository under docker.io",
    input: "docker.io/docker/Docker",
    error: `${FORMAT}: repository name (docker/Docker) must be lowercase`,
  },
  {
    name: "an uppercase path on a registry with a port",
    input: "test:5000/Uppercase/lowercase:tag",
    error: `${FORMAT}: repository name (Uppercase/lowercase) must be lowercase`,
  },
  {
    name: "an uppercase digest algorithm without a tag is read as part of the name",
    input: `a@SHA256:${SHA256_HEX}`,
    error: `${FORMAT}: repository name (library/a@SHA256) must be lowercase`,
  },
  {
    name: "an uppercase first segment that is neither host nor path gets Parse's own wording",
    input: "Foo_Bar/x",
    error: "repository name must be lowercase",
  },
  {
    name: "a Kelvin sign lowercases to k as in Go",
    input: "\u212A/x",
    error: "repository name must be lowercase",
  },

  // 64-hex identifiers
  {
    name: "64 lowercase hex characters alone look like an image ID",
    input: SHA256_HEX,
    error: `invalid repository name (${SHA256_HEX}), cannot specify 64-byte hexadecimal strings`,
  },

  // Path component grammar
  { name: "two dots in a row", input: "a..b", error: FORMAT },
  { name: "three underscores in a row", input: "a___b", error: FORMAT },
  { name: "an underscore before a dot", input: "dock_.er/docker", error: FORMAT },
  { name: "a hyphen before a dot", input: "dock-.er/docker", error: FORMAT },
  { name: "a dotted namespace with two dots", input: "dock..er/docker", error: FORMAT },
  { name: "a leading hyphen", input: "-a", error: FORMAT },
  { name: "a trailing hyphen", input: "a-", error: FORMAT },
  { name: "a trailing hyphen in a namespace", input: "docker-/docker", error: FORMAT },
  { name: "leading underscores", input: "_docker/_docker", error: FORMAT },
  { name: "only underscores", input: "____/____", error: FORMAT },
  { name: "an empty path component", input: "a//b", error: FORMAT },
  { name: "several empty path components", input: "docker.io/docker///docker", error: FORMAT },
  { name: "a trailing slash", input: "a/", error: FORMAT },
  { name: "a host that starts with a hyphen", input: "-docker.io/docker/docker", error: FORMAT },
  { name: "unicode letters in the path", input: "caf\u00e9", error: FORMAT },

  // Domains
  { name: "an IPv6 zone identifier", input: "[fe80::1%eth0]:5000/a", error: FORMAT },
  { name: "an IPv6 zone with an @", input: "[fe80::1%@invalidzone]:5000/repo", error: FORMAT },
  {
    name: "an IPv6 address with embedded IPv4",
    input: "[2001:db8:3:4::192.0.2.33]:5000/debian",
    error: FORMAT,
  },
  { name: "an unbracketed IPv6 address", input: "fc00::1:5000/debian", error: FORMAT },
  { name: "a bracketed IPv6 address without a slash", input: "[2001:db8::1]", error: FORMAT },
  { name: "a bracketed IPv6 address and port without a slash", input: "[fc00::1]:5000", error: FORMAT },
  { name: "a bracketed IPv6 address with a tag and no slash", input: "[2001:db8::1]:tag", error: FORMAT },
  { name: "a port that is not numeric", input: "host:port/repo", error: FORMAT },
  { name: "an empty port", input: "host:/repo", error: FORMAT },

  // Tags
  { name: "a 129-character tag", input: `nginx:${"t".repeat(129)}`, error: FORMAT },
  { name: "a tag starting with a dot", input: "nginx:.x", error: FORMAT },
  { name: "a tag starting with a hyphen", input: "nginx:-x", error: FORMAT },
  { name: "a tag with a slash", input: "docker.io/a:b/c", error: FORMAT },

  // Digests
  {
    name: "a digest with a tag dropped still needs a valid digest",
    input: `nginx:1@sha256:${"f".repeat(31)}`,
    error: FORMAT,
  },
  {
    name: "a digest shorter than 32 hex characters does not match the grammar",
    input: `nginx@sha256:${"f".repeat(31)}`,
    error: FORMAT,
  },
  {
    name: "a short sha256 digest",
    input: `repo@sha256:${"f".repeat(34)}`,
    error: "invalid checksum digest length",
  },
  {
    name: "a sha384 digest of sha256 length",
    input: `nginx@sha384:${SHA256_HEX}`,
    error: "invalid checksum digest length",
  },
  {
    name: "uppercase hex of the right length",
    input: `nginx@sha256:${SHA256_HEX.toUpperCase()}`,
    error: "invalid checksum digest format",
  },
  {
    name: "uppercase hex of the wrong length reports the length first",
    input: `nginx@sha256:${"F".repeat(40)}`,
    error: "invalid checksum digest length",
  },
  {
    name: "an uppercase algorithm after a tag",
    input: `nginx:1@SHA256:${SHA256_HEX}`,
    error: "invalid checksum digest format",
  },
  { name: "an md5 digest", input: `nginx@md5:${"d".repeat(32)}`, error: "unsupported digest algorithm" },
  {
    name: "an unknown algorithm",
    input: `validname@invaliddigest:${"f".repeat(64)}`,
    error: "unsupported digest algorithm",
  },
  {
    name: "blake3, which go-digest does not link",
    input: `nginx@blake3:${SHA256_HEX}`,
    error: "unsupported digest algorithm",
  },
  {
    name: "a composite algorithm name",
    input: `nginx@sha256+b64:${SHA256_HEX}`,
    error: "unsupported digest algorithm",
  },
  { name: "two @ signs", input: `nginx@${SHA256}@${SHA256}`, error: FORMAT },

  // Length limits
  {
    name: "a 256-character Docker Hub path (library/ included)",
    input: "a".repeat(248),
    error: "repository name must not be more than 255 characters",
  },
  {
    name: "a 256-character path on another registry",
    input: `example.com/${"a".repeat(256)}`,
    error: "repository name must not be more than 255 characters",
  },
  {
    name: "a 257-character path of single letters",
    input: `${"a/".repeat(128)}a:tag`,
    error: "repository name must not be more than 255 characters",
  },
  {
    name: "a namespace longer than 255 characters",
    input: `${"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_".repeat(3)}this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker`,
    error: "repository name must not be more than 255 characters",
  },
];

describe("parseReference refuses what the kubelet refuses, with the kubelet's words", () => {
  for (const c of invalidCases) {
    test(c.name, () => {
      assert.equal(parseError(c.input), `couldn't parse image name ${JSON.stringify(c.input)}: ${c.error}`);
    });
  }
});

describe("surrounding whitespace is refused before parsing", () => {
  const cases = [
    { name: "a leading space", input: " nginx", quoted: '" nginx"' },
    { name: "a trailing space", input: "nginx ", quoted: '"nginx "' },
    { name: "a trailing newline", input: "nginx\n", quoted: '"nginx\\n"' },
    { name: "a leading tab", input: "\tnginx", quoted: '"\\tnginx"' },
    { name: "a trailing no-break space", input: "nginx\u00a0", quoted: '"nginx\\u00a0"' },
    { name: "a trailing next-line character", input: "nginx\u0085", quoted: '"nginx\\u0085"' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(
        parseError(c.input),
        `couldn't parse image name ${c.quoted}: invalid reference format: leading or trailing whitespace is not allowed`,
      );
    });
  }

  test("a byte-order mark is not whitespace to Go, so it fails the grammar instead", () => {
    assert.equal(
      parseError("\ufeffnginx"),
      `couldn't parse image name "\\ufeffnginx": invalid reference format`,
    );
  });
});

describe("the input is quoted in reasons the way Go's %q quotes it", () => {
  const cases = [
    { name: "a NUL byte becomes \\x00", input: "a\u0000b", quoted: '"a\\x00b"' },
    { name: "a newline becomes \\n", input: "a\nb", quoted: '"a\\nb"' },
    { name: "DEL becomes \\x7f", input: "a\u007fb", quoted: '"a\\x7fb"' },
    { name: "quotes and backslashes are escaped", input: 'a"b\\c', quoted: '"a\\"b\\\\c"' },
    { name: "a printable emoji is kept", input: "a\u{1f433}b", quoted: '"a\u{1f433}b"' },
    { name: "a non-printable astral character uses \\U", input: "a\u{e0001}b", quoted: '"a\\U000e0001b"' },
    { name: "a lone surrogate shows as the replacement character", input: "a\ud800b", quoted: '"a\ufffdb"' },
    { name: "an inner no-break space uses \\u", input: "a\u00a0b", quoted: '"a\\u00a0b"' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(parseError(c.input), `couldn't parse image name ${c.quoted}: invalid reference format`);
    });
  }
});

describe("familiarName and canonicalName print the reference containerd pulls", () => {
  const cases = [
    { input: "nginx:1.25", familiar: "nginx:1.25", canonical: "docker.io/library/nginx:1.25" },
    { input: "nginx", familiar: "nginx:latest", canonical: "docker.io/library/nginx:latest" },
    {
      input: "docker.io/library/ubuntu",
      familiar: "ubuntu:latest",
      canonical: "docker.io/library/ubuntu:latest",
    },
    {
      input: "index.docker.io/fooo/bar",
      familiar: "fooo/bar:latest",
      canonical: "docker.io/fooo/bar:latest",
    },
    {
      input: "library/foo/bar",
      familiar: "library/foo/bar:latest",
      canonical: "docker.io/library/foo/bar:latest",
    },
    { input: "store/foo/bar:1", familiar: "store/foo/bar:1", canonical: "docker.io/store/foo/bar:1" },
    {
      input: "127.0.0.1:8000/private/moonbase",
      familiar: "127.0.0.1:8000/private/moonbase:latest",
      canonical: "127.0.0.1:8000/private/moonbase:latest",
    },
    {
      input: "example.com/privatebase:v1",
      familiar: "example.com/privatebase:v1",
      canonical: "example.com/privatebase:v1",
    },
    { input: "FOO/bar", familiar: "FOO/bar:latest", canonical: "FOO/bar:latest" },
    {
      input: `busybox:latest@${SHA256}`,
      familiar: `busybox@${SHA256}`,
      canonical: `docker.io/library/busybox@${SHA256}`,
    },
    { input: `ghcr.io/o/r@${SHA512}`, familiar: `ghcr.io/o/r@${SHA512}`, canonical: `ghcr.io/o/r@${SHA512}` },
  ];
  for (const c of cases) {
    test(`${c.input} is familiar ${c.familiar} and canonical ${c.canonical}`, () => {
      const reference = parseOk(c.input);
      assert.equal(familiarName(reference), c.familiar);
      assert.equal(canonicalName(reference), c.canonical);
    });
  }

  test("every canonical name parses back to the same reference", () => {
    for (const c of validCases) {
      const reference = parseOk(c.input);
      const again = parseOk(canonicalName(reference));
      assert.deepEqual({ ...again, original: reference.original }, reference, c.input);
    }
  });
});

describe("hostile input is handled in linear time", () => {
  const SHORT = "docker.io/library/nginx:1.25";

  function elapsed(run: () => void): number {
    const start = process.hrtime.bigint();
    run();
    return Number(process.hrtime.bigint() - start);
  }

  /** Best of three, to keep a GC pause from failing the test. */
  function fastest(run: () => void): number {
    return Math.min(elapsed(run), elapsed(run), elapsed(run));
  }

  /** Time to parse the short reference often enough to cover `characters` characters. */
  function baseline(characters: number): number {
    const times = Math.ceil(characters / SHORT.length);
    return fastest(() => {
      for (let i = 0; i < times; i++) parseReference(SHORT);
    });
  }

  // A quadratic or backtracking scanner would take thousands of times longer than this on these sizes.
  const ALLOWED_FACTOR = 50;
  const hostile = [
    { name: "a long run of hyphens ending in an invalid character", input: `a${"-".repeat(100_000)}!` },
    { name: "fifty thousand empty-ended path components", input: "a/".repeat(50_000) },
    { name: "a one-megabyte name", input: "a".repeat(1 << 20) },
    { name: "alternating letters and hyphens", input: "a-".repeat(200_000) },
    { name: "dotted labels in the first segment", input: `${"a.".repeat(100_000)}/x` },
    { name: "an unclosed IPv6 bracket", input: `[${":".repeat(100_000)}/x` },
    { name: "many colons", input: "a:".repeat(100_000) },
    { name: "many @ signs", input: "a@".repeat(100_000) },
    { name: "uppercase that forces the lowercase retry", input: `${"Aa_".repeat(100_000)}/x` },
    { name: "an endless digest", input: `x/y@sha256:${"f".repeat(200_000)}` },
    { name: "an endless digest algorithm", input: `x/y@${"a-".repeat(100_000)}:${SHA256_HEX}` },
    { name: "an endless tag", input: `x/y:${"t".repeat(200_000)}` },
    { name: "NUL bytes and newlines", input: "\u0000\n".repeat(100_000) },
    { name: "emoji", input: "\u{1f433}".repeat(100_000) },
  ];

  for (const h of hostile) {
    test(`${h.name} takes time in proportion to its length`, () => {
      const uncapped = { maxLength: Number.POSITIVE_INFINITY };
      const result = parseReference(h.input, uncapped);
      assert.equal(result.ok, false);
      const hostileTime = fastest(() => parseReference(h.input, uncapped));
      const ordinaryTime = baseline(h.input.length);
      assert.ok(
        hostileTime < ALLOWED_FACTOR * ordinaryTime,
        `${hostileTime} ns for ${h.input.length} hostile characters vs ${ordinaryTime} ns for as many ordinary ones`,
      );
    });
  }

  test(`input over ${MAX_REFERENCE_LENGTH} characters is refused before scanning`, () => {
    const huge = `${"a".repeat(1 << 20)}!`;
    const reason = parseError(huge);
    assert.equal(
      reason,
      `couldn't parse image name starting "${"a".repeat(64)}" (${huge.length} characters): longer than the ${MAX_REFERENCE_LENGTH} characters pullcheck accepts`,
    );
    const hugeTime = fastest(() => parseReference(huge));
    assert.ok(hugeTime < ALLOWED_FACTOR * baseline(SHORT.length * 10), `${hugeTime} ns for a capped input`);
  });

  test(`input of exactly ${MAX_REFERENCE_LENGTH} characters is still parsed`, () => {
    const longest = `example.com/${"a".repeat(MAX_REFERENCE_LENGTH - "example.com/".length)}`;
    assert.equal(
      parseError(longest),
      `couldn't parse image name "${longest}": repository name must not be more than 255 characters`,
    );
  });
});
