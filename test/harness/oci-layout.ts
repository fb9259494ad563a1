import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Descriptor, ImageContent } from "./image-content.ts";

const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(":");
  if (!algorithm || !hex) throw new Error(`not a digest: ${digest}`);
  return join(dir, "blobs", algorithm, hex);
}

/** Writes an OCI image layout (oci-layout, index.json, blobs/) that skopeo can read as `oci:DIR:REF`. */
export async function writeLayout(dir: string, content: ImageContent, refName = "latest"): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  for (const [digest, bytes] of content.blobs) await writeFile(blobPath(dir, digest), bytes);
  const entry = { ...content.top, annotations: { [REF_NAME_ANNOTATION]: refName } };
  await writeFile(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
}

export interface Layout {
  readonly top: Descriptor;
  readBlob(digest: string): Promise<Buffer>;
}

/** Opens a layout written by `writeLayout` (its first index.json entry is the image). */
export async function readLayout(dir: string): Promise<Layout> {
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests?: Descriptor[] };
  const first = index.manifests?.[0];
  if (first === undefined) throw new Error(`${dir}/index.json lists no manifest`);
  const { annotations: _refName, ...top } = first;
  return { top, readBlob: (digest) => readFile(blobPath(dir, digest)) };
}
