import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scopesFor } from "../../src/registry/attempt.ts";
import { type Challenge, parseChallenges, pickChallenge } from "../../src/registry/challenge.ts";

/** Challenges as plain data for deepEqual. */
function plain(
  challenges: Challenge[],
): { scheme: string; params: Record<string, string>; token68?: string }[] {
  return challenges.map((c) => ({
    scheme: c.scheme,
    params: Object.fromEntries(c.params),
    ...(c.token68 !== undefined ? { token68: c.token68 } : {}),
  }));
}

describe("parseChallenges: REGISTRY.md §3.2 vectors", () => {
  const vectors: { name: string; header: string | string[]; expected: ReturnType<typeof plain> }[] = [
    {
      name: "A1 keeps a comma inside a quoted scope",
      header:
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:foo/bar:pull,push"',
      expected: [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:foo/bar:pull,push",
          },
        },
      ],
    },
    {
      name: "A2 keeps space-separated scopes in one param",
      header:
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:foo/bar:pull,push repository:foo/baz:pull repository:foo/foo:push"',
      expected: [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:foo/bar:pull,push repository:foo/baz:pull repository:foo/foo:push",
          },
        },
      ],
    },
    {
      name: "A3 keeps an empty quoted value and the params after it",
      header:
        'Bearer realm="https://auth.example.io/token",empty="",service="registry.example.io",scope="repository:library/hello-world:pull,push"',
      expected: [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.example.io/token",
            empty: "",
            service: "registry.example.io",
            scope: "repository:library/hello-world:pull,push",
          },
        },
      ],
    },
    {
      name: "A4 reads bare tokens and unescapes backslashes in quoted strings",
      header:
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",other=fun,slashed="he\\"\\l\\lo"',
      expected: [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.example.com/token",
            service: "registry.example.com",
            other: "fun",
            slashed: 'he"llo',
          },
        },
      ],
    },
    {
      name: "A5 keeps an ACR-style scope with a comma",
      header:
        'Bearer realm="https://dummy.azurecr.io/oauth2/token",service="dummy.azurecr.io",scope="repository:dummyrepo:pull,push"',
      expected: [
        {
          scheme: "bearer",
          params: {
            realm: "https://dummy.azurecr.io/oauth2/token",
            service: "dummy.azurecr.io",
            scope: "repository:dummyrepo:pull,push",
          },
        },
      ],
    },
    {
      name: "A6 reads the insufficient_scope error",
      header:
        'Bearer realm="https://r/token",service="s",scope="repository:a:pull",error="insufficient_scope"',
      expected: [
        {
          scheme: "bearer",
          params: {
            realm: "https://r/token",
            service: "s",
            scope: "repository:a:pull",
            error: "insufficient_scope",
          },
        },
      ],
    },
    {
      name: "A7 reads the invalid_token error",
      header: 'Bearer realm="https://r/token",service="s",error="invalid_token"',
      expected: [
        { scheme: "bearer", params: { realm: "https://r/token", service: "s", error: "invalid_token" } },
      ],
    },
    {
      name: "A8 reads an ECR Basic challenge",
      header: 'Basic realm="https://1234.dkr.ecr.eu-west-2.amazonaws.com/",service="ecr.amazonaws.com"',
      expected: [
        {
          scheme: "basic",
          params: { realm: "https://1234.dkr.ecr.eu-west-2.amazonaws.com/", service: "ecr.amazonaws.com" },
        },
      ],
    },
    {
      name: "A9 keeps two header lines as two challenges",
      header: ['Basic realm="x"', 'Bearer realm="y",service="z"'],
      expected: [
        { scheme: "basic", params: { realm: "x" } },
        { scheme: "bearer", params: { realm: "y", service: "z" } },
      ],
    },
    {
      name: "A10 splits two challenges on one line",
      header: 'Basic realm="quay.io", Bearer realm="https://quay.io/v2/auth",service="quay.io"',
      expected: [
        { scheme: "basic", params: { realm: "quay.io" } },
        { scheme: "bearer", params: { realm: "https://quay.io/v2/auth", service: "quay.io" } },
      ],
    },
    {
      name: "A11 parses an unknown scheme without params",
      header: "Negotiate",
      expected: [{ scheme: "negotiate", params: {} }],
    },
  ];
  for (const v of vectors) {
    test(v.name, () => {
      assert.deepEqual(plain(parseChallenges(v.header)), v.expected);
    });
  }
});

describe("parseChallenges: edge cases", () => {
  const cases: { name: string; header: string | string[] | undefined; expected: ReturnType<typeof plain> }[] =
    [
      { name: "no header gives no challenges", header: undefined, expected: [] },
      { name: "an empty line gives no challenges", header: "", expected: [] },
      { name: "only commas and spaces give no challenges", header: " , ,, ", expected: [] },
      {
        name: "scheme and param names are lowercased, values keep their case",
        header: 'BEARER Realm="https://A/Token",SERVICE=Reg',
        expected: [{ scheme: "bearer", params: { realm: "https://A/Token", service: "Reg" } }],
      },
      {
        name: "whitespace around = and commas is allowed",
        header: 'Bearer realm = "r" ,  service= "s"',
        expected: [{ scheme: "bearer", params: { realm: "r", service: "s" } }],
      },
      {
        name: "empty list elements between params are skipped",
        header: 'Bearer realm="r",, ,service="s"',
        expected: [{ scheme: "bearer", params: { realm: "r", service: "s" } }],
      },
      {
        name: "the first occurrence of a repeated param wins",
        header: 'Bearer realm="first",realm="second"',
        expected: [{ scheme: "bearer", params: { realm: "first" } }],
      },
      {
        name: "a token68 after the scheme is kept as such",
        header: "Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXegDTAL==",
        expected: [{ scheme: "negotiate", params: {}, token68: "YIIBhwYGKwYBBQUCoIIBezCCAXegDTAL==" }],
      },
      {
        name: "a token68 challenge followed by another challenge on one line",
        header: 'Negotiate abc=, Basic realm="r"',
        expected: [
          { scheme: "negotiate", params: {}, token68: "abc=" },
          { scheme: "basic", params: { realm: "r" } },
        ],
      },
      {
        name: "a comma and a space inside quotes do not start a new challenge",
        header: 'Bearer realm="a, Basic b=c",service="s"',
        expected: [{ scheme: "bearer", params: { realm: "a, Basic b=c", service: "s" } }],
      },
      {
        name: "an unterminated quoted value runs to the end of the line",
        header: 'Bearer realm="https://r/token',
        expected: [{ scheme: "bearer", params: { realm: "https://r/token" } }],
      },
      {
        name: "an unquoted URL value is read up to the next comma",
        header: "Bearer realm=https://r/token?x=1,service=s",
        expected: [{ scheme: "bearer", params: { realm: "https://r/token?x=1", service: "s" } }],
      },
      {
        name: "garbage between params is skipped up to the next comma",
        header: 'Bearer realm="r", @@@ !, service="s"',
        expected: [{ scheme: "bearer", params: { realm: "r", service: "s" } }],
      },
      {
        name: "leading garbage before a scheme is skipped",
        header: '@@, Basic realm="r"',
        expected: [{ scheme: "basic", params: { realm: "r" } }],
      },
      {
        name: "three challenges over two lines keep their order",
        header: ['Negotiate, Basic realm="b"', 'Bearer realm="c"'],
        expected: [
          { scheme: "negotiate", params: {} },
          { scheme: "basic", params: { realm: "b" } },
          { scheme: "bearer", params: { realm: "c" } },
        ],
      },
    ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(plain(parseChallenges(c.header)), c.expected);
    });
  }
});

describe("pickChallenge", () => {
  const cases: { name: string; header: string | string[]; scheme: string | null; realm?: string }[] = [
    {
      name: "prefers Bearer over an earlier Basic line (containerd)",
      header: ['Basic realm="x"', 'Bearer realm="y"'],
      scheme: "bearer",
      realm: "y",
    },
    {
      name: "prefers Bearer on the same line",
      header: 'Basic realm="x", Bearer realm="y"',
      scheme: "bearer",
      realm: "y",
    },
    { name: "falls back to Basic", header: 'Negotiate, Basic realm="x"', scheme: "basic", realm: "x" },
    { name: "ignores unknown schemes only", header: ["Negotiate", 'Digest realm="d"'], scheme: null },
    { name: "returns null for no challenge", header: "", scheme: null },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const picked = pickChallenge(parseChallenges(c.header));
      assert.equal(picked?.scheme ?? null, c.scheme);
      if (c.realm !== undefined) assert.equal(picked?.params.get("realm"), c.realm);
    });
  }
});

describe("scopesFor", () => {
  const challenge = (scope?: string): Challenge => ({
    scheme: "bearer",
    params: new Map(
      scope === undefined
        ? [["realm", "r"]]
        : [
            ["realm", "r"],
            ["scope", scope],
          ],
    ),
  });
  const cases: [name: string, scope: string | undefined, expected: string[]][] = [
    ["builds the pull scope when the challenge has none", undefined, ["repository:team/app:pull"]],
    [
      "uses the challenge's scope for this repository",
      "repository:team/app:pull",
      ["repository:team/app:pull"],
    ],
    [
      "keeps extra actions the registry asked for",
      "repository:team/app:pull,push",
      ["repository:team/app:pull,push"],
    ],
    ["ignores a scope for another repository", "repository:team/other:pull", ["repository:team/app:pull"]],
    [
      "keeps only this repository's scopes from a list",
      "repository:team/other:pull repository:team/app:pull registry:catalog:*",
      ["repository:team/app:pull"],
    ],
    ["ignores a malformed scope", "garbage", ["repository:team/app:pull"]],
  ];
  for (const [name, scope, expected] of cases) {
    test(name, () => assert.deepEqual(scopesFor(challenge(scope), "team/app"), expected));
  }
});
