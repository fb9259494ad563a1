import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { MEDIA_TYPES } from "./media-types.ts";

export type TestImageKind = "oci-manifest" | "oci-index" | "docker-schema2" | "docker-list";

export const TEST_IMAGE_KINDS: readonly TestImageKind[] = [
  "oci-manifest",
  "oci-index",
  "docker-schema2",
  "docker-list",
];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Everything an image consists of, in memory: blobs by digest and the top-level descriptor. */
export interface ImageContent {
  readonly top: Descriptor;
  readonly blobs: ReadonlyMap<string, Buffer>;
  /** platform ("linux/amd64") -> digest of that platform's image manifest. */
  readonly platformDigests: Readonly<Record<string, string>>;
}

export function isIndexKind(kind: TestImageKind): boolean {
  return kind === "oci-index" || kind === "docker-list";
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** "linux/arm/v7" -> { os: "linux", architecture: "arm", variant: "v7" }. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.split("/");
  if (!os || !architecture || rest.length > 0 || variant === "") {
    throw new Error(`platform must be os/arch[/variant], got ${JSON.stringify(text)}`);
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** A one-file ustar archive with fixed owner, mode and mtime 0, so equal input gives equal bytes. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, "utf8");
  header.write(octal(0o644, 8), 100, "ascii");
  header.write(octal(0, 8), 108, "ascii");
  header.write(octal(0, 8), 116, "ascii");
  header.write(octal(content.length, 12), 124, "ascii");
  header.write(octal(0, 12), 136, "ascii");
  header.write("        ", 148, "ascii"); // checksum is computed with its own field as spaces
  header.write("0", 156, "ascii");
  header.write("ustar\0", 257, "ascii");
  header.write("00", 263, "ascii");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

class BlobSet {
  readonly blobs = new Map<string, Buffer>();
  add(mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
    const digest = sha256Digest(bytes);
    this.blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length, ...extra };
  }
}

function addPlatformImage(blobs: BlobSet, docker: boolean, platformText: string, seed: string): Descriptor {
  const platform = parsePlatform(platformText);
  const tar = tarOneFile("pullcheck-image.txt", Buffer.from(`seed=${seed}\nplatform=${platformText}\n`));
  // gzip's header carries no name or time here (zlib writes mtime 0), so the bytes are stable.
  const layer = blobs.add(
    docker ? MEDIA_TYPES.dockerLayer : MEDIA_TYPES.ociLayer,
    gzipSync(tar, { level: 9 }),
  );
  const config = blobs.add(
    docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig,
    json({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant === undefined ? {} : { variant: platform.variant }),
      config: { Cmd: ["/pullcheck-image.txt"] },
      rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
      history: [{ created_by: `pullcheck test harness (seed ${seed})` }],
    }),
  );
  const mediaType = docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest;
  return blobs.add(mediaType, json({ schemaVersion: 2, mediaType, config, layers: [layer] }), { platform });
}

/** Builds the blobs of a tiny image of the given kind. Pure: same arguments, same digests. */
export function buildImageContent(
  kind: TestImageKind,
  platforms: readonly string[],
  seed: string,
): ImageContent {
  if (platforms.length === 0) throw new Error("an image needs at least one platform");
  const docker = kind === "docker-schema2" || kind === "docker-list";
  const blobs = new BlobSet();
  const manifests = platforms.map((platform) => addPlatformImage(blobs, docker, platform, seed));
  const platformDigests = Object.fromEntries(
    platforms.map((p, i) => [p, (manifests[i] as Descriptor).digest]),
  );
  if (!isIndexKind(kind)) {
    if (platforms.length !== 1) throw new Error(`${kind} has exactly one platform, got ${platforms.length}`);
    const { platform: _unused, ...top } = manifests[0] as Descriptor;
    return { top, blobs: blobs.blobs, platformDigests };
  }
  const mediaType = docker ? MEDIA_TYPES.dockerList : MEDIA_TYPES.ociIndex;
  const top = blobs.add(mediaType, json({ schemaVersion: 2, mediaType, manifests }));
  return { top, blobs: blobs.blobs, platformDigests };
}
