/**
 * Token realm safety (REGISTRY.md §3.5). Pure.
 *
 * The webhook runs inside the cluster network and follows realms that any registry can name,
 * so a realm is refused when it could aim the webhook (with a credential!) at internal services.
 */
import { BlockList, isIP } from "node:net";

const INTERNAL = new BlockList();
// IPv4: unspecified, loopback, RFC 1918, link-local — and the same ranges written as IPv4-mapped IPv6.
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["127.0.0.0", 8],
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["169.254.0.0", 16],
] as const) {
  INTERNAL.addSubnet(network, prefix, "ipv4");
  INTERNAL.addSubnet(`::ffff:${network}`, 96 + prefix, "ipv6");
}
INTERNAL.addAddress("::", "ipv6"); // unspecified
INTERNAL.addAddress("::1", "ipv6"); // loopback
INTERNAL.addSubnet("fc00::", 7, "ipv6"); // unique local (ULA)
INTERNAL.addSubnet("fe80::", 10, "ipv6"); // link-local

/** Loopback, link-local, private or unspecified literal IP (v4 or v6, brackets allowed). */
export function isInternalIp(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const family = isIP(bare);
  if (family === 0) return false;
  return INTERNAL.check(bare, family === 4 ? "ipv4" : "ipv6");
}

export type RealmCheck =
  | { readonly ok: true; readonly url: URL }
  | { readonly ok: false; readonly reason: string };

/**
 * Validates a realm named by the registry at `registryUrl`.
 * - https only, http only when the registry itself is plain HTTP (insecure);
 * - a different host that is an internal literal IP is refused unless the operator configured
 *   the registry explicitly (`trusted`). The same host on another port is fine.
 */
export function checkRealm(
  realm: string,
  registryUrl: URL,
  settings: { readonly insecure: boolean; readonly trusted: boolean },
): RealmCheck {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return { ok: false, reason: "its token realm is not a valid URL" };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && settings.insecure)) {
    return {
      ok: false,
      reason: `its token realm uses ${url.protocol.replace(":", "")}, but only https is allowed for a registry reached over HTTPS`,
    };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "its token realm carries user information in the URL" };
  }
  if (url.hostname !== registryUrl.hostname && isInternalIp(url.hostname) && !settings.trusted) {
    return {
      ok: false,
      reason: `its token realm points to the internal address ${url.hostname}, which is only allowed for registries listed in the config`,
    };
  }
  return { ok: true, url };
}
