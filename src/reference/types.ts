/** An image reference normalized the way the kubelet and containerd normalize it. */
export interface ImageReference {
  /** The reference exactly as written in the pod spec or on the command line. */
  readonly original: string;
  /** Normalized domain, host[:port]: "docker.io" for Docker Hub, "[::1]:5000", even "Foo". */
  readonly registry: string;
  /** Normalized path without domain: "library/nginx". */
  readonly repository: string;
  /** Tag to pull; "latest" when neither tag nor digest was given; null when a digest is present (containerd drops the tag). */
  readonly tag: string | null;
  /** Digest as written, or null. */
  readonly digest: string | null;
  /** registry + "/" + repository: the string the kubelet's keyring looks up ("repoToPull"). */
  readonly name: string;
}

export type ParsedReference =
  | { readonly ok: true; readonly reference: ImageReference }
  | { readonly ok: false; readonly reason: string };
