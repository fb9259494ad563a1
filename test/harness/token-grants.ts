import type { AccessEntry } from "./jwt.ts";

export interface RequestedScope {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Parses scope parameters ("repository:team/app:pull,push", several per value separated by
 * spaces, the parameter possibly repeated). Malformed scopes are dropped, like Distribution does.
 */
export function parseScopes(values: readonly string[]): RequestedScope[] {
  const scopes: RequestedScope[] = [];
  for (const value of values) {
    for (const item of value.split(" ")) {
      const first = item.indexOf(":");
      const last = item.lastIndexOf(":");
      if (first <= 0 || last === first) continue;
      const actions = item
        .slice(last + 1)
        .split(",")
        .filter((a) => a !== "");
      scopes.push({ type: item.slice(0, first), name: item.slice(first + 1, last), actions });
    }
  }
  return scopes;
}

export interface GrantPolicy {
  /** Users who get every action they ask for (the harness's push user). */
  superusers: readonly string[];
  /** user ("" = anonymous) -> repositories they may pull, matched literally. */
  pullGrants: Readonly<Record<string, readonly string[]>>;
}

/** What a token for `subject` grants: every requested scope, with the allowed actions (maybe none). */
export function grantAccess(
  subject: string,
  scopes: readonly RequestedScope[],
  policy: GrantPolicy,
): AccessEntry[] {
  const superuser = policy.superusers.includes(subject);
  const pullable = Object.hasOwn(policy.pullGrants, subject) ? (policy.pullGrants[subject] ?? []) : [];
  return scopes.map((scope) => {
    if (superuser) return { ...scope, actions: [...scope.actions] };
    const mayPull = scope.type === "repository" && pullable.includes(scope.name);
    return { ...scope, actions: mayPull ? scope.actions.filter((a) => a === "pull") : [] };
  });
}
