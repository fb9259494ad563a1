import { buildImageContent, isIndexKind, type TestImageKind } from "./image-content.ts";
import { writeLayout } from "./oci-layout.ts";
import { harnessTempDir } from "./temp.ts";

export type { TestImageKind } from "./image-content.ts";
export { TEST_IMAGE_KINDS } from "./image-content.ts";

export interface TestImage {
  readonly kind: TestImageKind;
  /** OCI image layout directory holding exactly the bytes `push` uploads. */
  readonly layoutDir: string;
  readonly platforms: readonly string[];
  /** Digest of the top-level manifest or index: what the registry reports after a push. */
  readonly digest: string;
  /** Media type of the top-level manifest or index. */
  readonly mediaType: string;
  /** platform ("linux/amd64") -> digest of that platform's image manifest (for single kinds: `digest`). */
  readonly platformDigests: Readonly<Record<string, string>>;
}

export interface MakeImageOptions {
  /** Index kinds default to linux/amd64 + linux/arm64; single kinds to linux/amd64 (exactly one allowed). */
  platforms?: string[];
  /** Changes the layer content and so every digest; default "pullcheck". */
  seed?: string;
}

/** Builds a tiny deterministic image as an OCI layout on disk: same kind, platforms and seed, same digests. */
export async function makeImage(kind: TestImageKind, options: MakeImageOptions = {}): Promise<TestImage> {
  const platforms =
    options.platforms ?? (isIndexKind(kind) ? ["linux/amd64", "linux/arm64"] : ["linux/amd64"]);
  const content = buildImageContent(kind, platforms, options.seed ?? "pullcheck");
  const layoutDir = harnessTempDir(`image-${kind}`);
  await writeLayout(layoutDir, content);
  return {
    kind,
    layoutDir,
    platforms: [...platforms],
    digest: content.top.digest,
    mediaType: content.top.mediaType,
    platformDigests: content.platformDigests,
  };
}
