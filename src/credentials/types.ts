/** Where a credential came from; mirrors the `credential.source` JSON field of PRODUCT.md. */
export type CredentialSourceKind = "docker-config" | "pod-secret" | "service-account-secret";

/** One docker-config style file or pull secret, as read. */
export interface CredentialOrigin {
  readonly source: CredentialSourceKind;
  /** "namespace/name" for secrets, the file path for docker-config files. */
  readonly secret: string;
}

/** One auth entry the kubelet would honour (identitytoken/registrytoken are ignored by the kubelet). */
export interface AuthEntry {
  /** The key exactly as written in the file ("https://index.docker.io/v1/", "quay.io/team"). */
  readonly key: string;
  readonly username: string;
  readonly password: string;
}

/** A credential picked by the keyring for one image, in the order the kubelet would try it. */
export interface MatchedCredential {
  readonly username: string;
  readonly password: string;
  readonly origin: CredentialOrigin;
  /** The auth key (as written) whose pattern matched the image. */
  readonly match: string;
}
