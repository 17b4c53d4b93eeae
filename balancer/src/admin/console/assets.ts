import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

export interface ConsoleAsset {
  type: string;
  body: Buffer;
  etag: string;
}

/**
 * The console's only files, served by the admin server itself (no CDN, no build step): `balancer/assets/console/`,
 * found from here both as TypeScript (`src/admin/console/`) and compiled (`dist/admin/console/`).
 */
const assetDir = new URL("../../../assets/console/", import.meta.url);
const assetTypes: Readonly<Record<string, string>> = {
  "console.css": "text/css; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
};

const loaded = new Map<string, Promise<ConsoleAsset>>();

async function load(name: string, type: string): Promise<ConsoleAsset> {
  const body = await readFile(new URL(name, assetDir));
  return { type, body, etag: createHash("sha256").update(body).digest("base64url").slice(0, 27) };
}

/** A console file by name, read once; `undefined` for any other name. */
export function consoleAsset(name: string): Promise<ConsoleAsset> | undefined {
  const type = assetTypes[name];
  if (type === undefined) return undefined;
  let asset = loaded.get(name);
  if (asset === undefined) {
    asset = load(name, type);
    asset.catch(() => loaded.delete(name));
    loaded.set(name, asset);
  }
  return asset;
}
