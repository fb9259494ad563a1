export type RegistryAuthConfig =
  | { kind: "none" }
  | { kind: "htpasswd"; realm: string; path: string }
  | { kind: "token"; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RegistryConfigInput {
  port: number;
  storageDir: string;
  secret: string;
  tls: { certificate: string; key: string } | null;
  auth: RegistryAuthConfig;
}

function authSection(auth: RegistryAuthConfig): object {
  switch (auth.kind) {
    case "none":
      return {};
    case "htpasswd":
      return { auth: { htpasswd: { realm: auth.realm, path: auth.path } } };
    case "token":
      return {
        auth: {
          token: {
            realm: auth.realm,
            service: auth.service,
            issuer: auth.issuer,
            rootcertbundle: auth.rootCertBundle,
          },
        },
      };
  }
}

/**
 * The docker-registry (Distribution 2.8.2) configuration. Returned as JSON text: YAML is a
 * superset of JSON, so the registry reads it as its config.yml.
 */
export function registryConfig(input: RegistryConfigInput): string {
  const config = {
    version: 0.1,
    // info logs cost ~1 KB per request; warn keeps benchmarks honest and stderr readable.
    log: { level: "warn", formatter: "text", accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: input.storageDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `127.0.0.1:${input.port}`,
      secret: input.secret,
      ...(input.tls === null ? {} : { tls: input.tls }),
    },
    health: { storagedriver: { enabled: false } },
    ...authSection(input.auth),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
