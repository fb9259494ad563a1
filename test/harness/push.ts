import type { Agent } from "node:http";
import { type HarnessResponse, harnessRequest } from "./http.ts";
import type { Descriptor } from "./image-content.ts";
import { INDEX_MEDIA_TYPES } from "./media-types.ts";
import type { Layout } from "./oci-layout.ts";

/** Where and as whom the harness talks to its registry. */
export interface RegistryEndpoint {
  url: string;
  caPem: string | null;
  /** Keep-alive agent for the harness's own requests. */
  agent?: Agent;
  /** Authorization header value with push/delete rights on `repository`, or undefined (no auth). */
  authorization(repository: string): string | undefined;
}

function fail(what: string, res: HarnessResponse): never {
  throw new Error(`${what}: HTTP ${res.status} ${res.body.toString("utf8").slice(0, 500)}`);
}

async function call(
  endpoint: RegistryEndpoint,
  repository: string,
  method: string,
  url: string,
  extra: { headers?: Record<string, string>; body?: Buffer } = {},
): Promise<HarnessResponse> {
  const authorization = endpoint.authorization(repository);
  return harnessRequest({
    url,
    method,
    caPem: endpoint.caPem,
    ...(endpoint.agent === undefined ? {} : { agent: endpoint.agent }),
    headers: { ...(authorization === undefined ? {} : { authorization }), ...extra.headers },
    ...(extra.body === undefined ? {} : { body: extra.body }),
  });
}

// Monolithic upload in two requests: 2.8.2 has no single-request POST ?digest= upload.
async function pushBlob(endpoint: RegistryEndpoint, repository: string, digest: string, bytes: Buffer) {
  const blobUrl = `${endpoint.url}/v2/${repository}/blobs/${digest}`;
  if ((await call(endpoint, repository, "HEAD", blobUrl)).status === 200) return;
  const started = await call(endpoint, repository, "POST", `${endpoint.url}/v2/${repository}/blobs/uploads/`);
  const location = started.headers.location;
  if (started.status !== 202 || location === undefined) fail(`start upload of ${digest}`, started);
  const uploadUrl = new URL(location, endpoint.url);
  uploadUrl.searchParams.set("digest", digest);
  const done = await call(endpoint, repository, "PUT", uploadUrl.toString(), {
    headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length) },
    body: bytes,
  });
  if (done.status !== 201) fail(`upload of ${digest}`, done);
}

async function putManifest(
  endpoint: RegistryEndpoint,
  repository: string,
  reference: string,
  descriptor: Descriptor,
  bytes: Buffer,
): Promise<string> {
  const res = await call(
    endpoint,
    repository,
    "PUT",
    `${endpoint.url}/v2/${repository}/manifests/${reference}`,
    {
      headers: { "content-type": descriptor.mediaType, "content-length": String(bytes.length) },
      body: bytes,
    },
  );
  if (res.status !== 201) fail(`PUT manifest ${repository}:${reference}`, res);
  const digest = res.headers["docker-content-digest"];
  if (digest !== descriptor.digest) {
    throw new Error(`registry stored ${repository}:${reference} as ${digest}, expected ${descriptor.digest}`);
  }
  return digest;
}

async function pushImageManifest(
  endpoint: RegistryEndpoint,
  layout: Layout,
  repository: string,
  d: Descriptor,
) {
  const bytes = await layout.readBlob(d.digest);
  const manifest = JSON.parse(bytes.toString("utf8")) as { config: Descriptor; layers: Descriptor[] };
  for (const blob of [manifest.config, ...manifest.layers]) {
    await pushBlob(endpoint, repository, blob.digest, await layout.readBlob(blob.digest));
  }
  return bytes;
}

/**
 * Uploads the image in `layout` to `repository`, tagged `tag` (or by digest only when tag is
 * null). Index children go up by digest first: the registry refuses an index whose
 * manifests it does not have.
 */
export async function pushLayout(
  endpoint: RegistryEndpoint,
  layout: Layout,
  repository: string,
  tag: string | null,
): Promise<{ digest: string }> {
  const top = layout.top;
  let topBytes: Buffer;
  if (INDEX_MEDIA_TYPES.includes(top.mediaType)) {
    topBytes = await layout.readBlob(top.digest);
    const index = JSON.parse(topBytes.toString("utf8")) as { manifests: Descriptor[] };
    for (const child of index.manifests) {
      const childBytes = await pushImageManifest(endpoint, layout, repository, child);
      await putManifest(endpoint, repository, child.digest, child, childBytes);
    }
  } else {
    topBytes = await pushImageManifest(endpoint, layout, repository, top);
  }
  return { digest: await putManifest(endpoint, repository, tag ?? top.digest, top, topBytes) };
}

export async function deleteManifest(
  endpoint: RegistryEndpoint,
  repository: string,
  digest: string,
): Promise<void> {
  const res = await call(
    endpoint,
    repository,
    "DELETE",
    `${endpoint.url}/v2/${repository}/manifests/${digest}`,
  );
  if (res.status !== 202) fail(`DELETE manifest ${repository}@${digest}`, res);
}
