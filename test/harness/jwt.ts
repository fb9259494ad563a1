import { type KeyObject, randomBytes, sign } from "node:crypto";

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenClaims {
  iss: string;
  sub: string;
  /** A string, not an array: Distribution 2.8.2 wants it that way (TESTING.md §1). */
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
}

function base64url(value: Buffer | string): string {
  return Buffer.from(value).toString("base64url");
}

export function tokenClaims(input: {
  issuer: string;
  service: string;
  subject: string;
  access: AccessEntry[];
  now: Date;
  lifetimeSeconds: number;
}): TokenClaims {
  const iat = Math.floor(input.now.getTime() / 1000);
  return {
    iss: input.issuer,
    sub: input.subject,
    aud: input.service,
    exp: iat + input.lifetimeSeconds,
    nbf: iat,
    iat,
    jti: randomBytes(12).toString("hex"),
    access: input.access,
  };
}

/**
 * An RS256 JWT whose key the registry finds through `x5c` (the signing certificate, chained to
 * the registry's `rootcertbundle`): the simplest of the three ways 2.8.2 accepts.
 */
export function signJwt(claims: TokenClaims, signer: { key: KeyObject; certDerBase64: string }): string {
  const header = { typ: "JWT", alg: "RS256", x5c: [signer.certDerBase64] };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign("sha256", Buffer.from(signingInput), signer.key);
  return `${signingInput}.${base64url(signature)}`;
}
