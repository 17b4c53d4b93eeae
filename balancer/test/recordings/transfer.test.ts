import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingHookEnvironment, recordingHookProgramFile } from "../../../components/bbb/nodeCommands.js";
import { parseMetadataXml } from "../../src/recordings/metadataXml.js";
import { formatDirectory, stagingDirectory } from "../../src/recordings/share.js";
import { uploadSignature } from "../../src/recordings/uploadAuth.js";
import { hookProgram, startRecordingFleet, treeOf, type RecordingFleet } from "./harness.js";

const run = promisify(execFile);
let rf: RecordingFleet;
beforeAll(async () => {
  rf = await startRecordingFleet();
}, 30_000);
afterAll(async () => {
  await rf.close();
});

/** Runs the hook as a node would, `-m <recordID> -f presentation`, with that node's identity. */
async function runHook(recordId: string, node: { id: string; secret: string }, publishedDir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(hookProgram, ["-m", recordId, "-f", "presentation"], {
      env: { ...process.env, MEDIAPLANE_UPLOAD_URL: rf.uploadUrl, MEDIAPLANE_NODE_ID: node.id, MEDIAPLANE_NODE_SECRET: node.secret, BBB_PUBLISHED_DIR: publishedDir, MEDIAPLANE_UPLOAD_CONFIG: "/nonexistent", MEDIAPLANE_UPLOAD_ATTEMPTS: "1" },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

const nodeOf = (id: string): { id: string; secret: string } => {
  const node = rf.fleet.config.nodes.find((candidate) => candidate.id === id);
  if (node === undefined) throw new Error(`no node ${id}`);
  return { id: node.id, secret: node.secret };
};
const nodeIdOf = (directory: string): string => directory.slice(rf.nodesDir.length + 1).split("/")[0] ?? "";

describe("a recording leaves the node for the share", () => {
  it("reaches the tenant's published directory whole, exactly as the node published it", async () => {
    const published = await rf.record("acme", "transfer-whole");
    expect(published?.hook?.exitCode, published?.hook?.output).toBe(0);
    const onShare = formatDirectory(rf.share, "acme", "published", "presentation", published!.recordId);
    expect(await treeOf(onShare)).toEqual(await treeOf(published!.directory));
    expect(Object.keys(await treeOf(onShare))).toContain("metadata.xml");
    expect(await treeOf(join(rf.share, stagingDirectory))).toEqual({});
  });

  it("publishes nothing for a meeting created without record=true, even when someone presses record", async () => {
    const published = await rf.record("acme", "transfer-unrecorded", { record: false });
    expect(published).toBeUndefined();
  });

  it("publishes nothing for a recorded meeting whose recording never ran (no marks)", async () => {
    const published = await rf.record("acme", "transfer-no-marks", { startRecording: false });
    expect(published).toBeUndefined();
  });

  it("changes nothing on the share when the hook runs again for the same recording", async () => {
    const published = (await rf.record("globex", "transfer-repeat"))!;
    const onShare = formatDirectory(rf.share, "globex", "published", "presentation", published.recordId);
    const before = await treeOf(onShare);
    const again = await runHook(published.recordId, nodeOf(nodeIdOf(published.directory)), join(rf.nodesDir, nodeIdOf(published.directory), "published"));
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain("alreadyThere");
    expect(await treeOf(onShare)).toEqual(before);
  });

  it("reads the node's identity and the platform's URL from the environment file the stack installs on the node", async () => {
    const published = (await rf.record("acme", "transfer-env-file"))!;
    await rm(formatDirectory(rf.share, "acme", "published", "presentation", published.recordId), { recursive: true });
    const node = nodeOf(nodeIdOf(published.directory));
    const envFile = join(rf.nodesDir, `${node.id}-recording-upload.env`);
    await writeFile(envFile, recordingHookEnvironment(rf.uploadUrl, node.id, node.secret));
    const { stdout } = await run(hookProgram, ["-m", published.recordId, "-f", "presentation"], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", MEDIAPLANE_UPLOAD_CONFIG: envFile, BBB_PUBLISHED_DIR: join(rf.nodesDir, node.id, "published") },
    });
    expect(stdout).toContain("published");
    expect(await treeOf(formatDirectory(rf.share, "acme", "published", "presentation", published.recordId))).toEqual(await treeOf(published.directory));
  });

  it("refuses a node that sends a recording of a meeting placed on another node", async () => {
    const published = (await rf.record("acme", "transfer-other-node"))!;
    const owner = nodeIdOf(published.directory);
    const other = owner === "n1" ? "n2" : "n1";
    const onShare = formatDirectory(rf.share, "acme", "published", "presentation", published.recordId);
    const before = await treeOf(onShare);
    // The other node holds a copy (say, copied by an operator) and sends it with its own, valid identity.
    const copies = join(rf.nodesDir, `${other}-copy`, "published");
    await cp(published.directory, join(copies, "presentation", published.recordId), { recursive: true });
    const attempt = await runHook(published.recordId, nodeOf(other), copies);
    expect(attempt.code).not.toBe(0);
    expect(attempt.output).toContain("403");
    expect(await treeOf(onShare)).toEqual(before);
  });

  it("refuses a recording whose metadata was changed to claim another tenant", async () => {
    const published = (await rf.record("acme", "transfer-forged-tenant"))!;
    const node = nodeIdOf(published.directory);
    const forged = join(rf.nodesDir, `${node}-forged`, "published");
    const forgedDir = join(forged, "presentation", published.recordId);
    await cp(published.directory, forgedDir, { recursive: true });
    const xml = await readFile(join(forgedDir, "metadata.xml"), "utf8");
    await writeFile(join(forgedDir, "metadata.xml"), xml.replace("<mediaplane-tenant>acme</mediaplane-tenant>", "<mediaplane-tenant>globex</mediaplane-tenant>").replaceAll("acme~", "globex~"));
    const before = await treeOf(join(rf.share, "globex"));
    const attempt = await runHook(published.recordId, nodeOf(node), forged);
    expect(attempt.code).not.toBe(0);
    expect(attempt.output).toContain("403");
    expect(await treeOf(join(rf.share, "globex"))).toEqual(before);
  });

  it("refuses an upload signed with a secret that is not the node's", async () => {
    const published = (await rf.record("acme", "transfer-bad-secret"))!;
    const node = nodeIdOf(published.directory);
    const attempt = await runHook(published.recordId, { id: node, secret: "not-the-node-secret-0123456789" }, join(rf.nodesDir, node, "published"));
    expect(attempt.code).not.toBe(0);
    expect(attempt.output).toContain("401");
  });
});

describe("a recording is never half-visible", () => {
  async function put(path: string, body: Buffer, node: { id: string; secret: string }, method: "PUT" | "POST" = "PUT"): Promise<number> {
    const { createHash } = await import("node:crypto");
    const contentSha256 = createHash("sha256").update(body).digest("hex");
    const date = Math.floor(Date.now() / 1000);
    const answer = await fetch(`${rf.uploadUrl}${path}`, {
      method,
      body,
      headers: {
        "x-mediaplane-node": node.id,
        "x-mediaplane-date": String(date),
        "x-mediaplane-content-sha256": contentSha256,
        authorization: `Mediaplane-HMAC ${uploadSignature(node.secret, { method, path, date, contentSha256 })}`,
      },
    });
    await answer.body?.cancel();
    return answer.status;
  }

  it("shows nothing of an upload whose commit names a file that never arrived", async () => {
    const published = (await rf.record("acme", "half-uploaded"))!;
    const node = nodeOf(nodeIdOf(published.directory));
    const files = await treeOf(published.directory);
    // The hook ran already: drop what it sent, then upload again, all but one file.
    await rm(formatDirectory(rf.share, "acme", "published", "presentation", published.recordId), { recursive: true });
    const prefix = `/_mediaplane/recordings/presentation/${published.recordId}`;
    const paths = Object.keys(files).sort();
    for (const path of paths.filter((name) => name !== "shapes.svg")) expect(await put(`${prefix}/files/${path}`, Buffer.from(files[path]!, "base64"), node)).toBe(200);
    const { createHash } = await import("node:crypto");
    const manifest = paths.map((path) => `${createHash("sha256").update(Buffer.from(files[path]!, "base64")).digest("hex")}  ${path}`).join("\n");
    expect(await put(`${prefix}/commit`, Buffer.from(manifest), node, "POST")).toBe(409);
    expect(await treeOf(join(rf.share, "acme", "published", "presentation", published.recordId))).toEqual({});
    // The missing file arrives: the same commit now publishes the whole recording.
    expect(await put(`${prefix}/files/shapes.svg`, Buffer.from(files["shapes.svg"]!, "base64"), node)).toBe(200);
    expect(await put(`${prefix}/commit`, Buffer.from(manifest), node, "POST")).toBe(200);
    expect(await treeOf(formatDirectory(rf.share, "acme", "published", "presentation", published.recordId))).toEqual(files);
  });

  it("answers a malformed file path with 400, not a server error", async () => {
    const node = nodeOf("n1");
    expect(await put("/_mediaplane/recordings/presentation/0123456789abcdef0123456789abcdef01234567-1700000000000/files/%E0%A4%A", Buffer.from("x"), node)).toBe(400);
  });

  it("refuses a file whose body does not match the hash it was signed with", async () => {
    const node = nodeOf("n1");
    const path = "/_mediaplane/recordings/presentation/0123456789abcdef0123456789abcdef01234567-1700000000000/files/shapes.svg";
    const { createHash } = await import("node:crypto");
    const date = Math.floor(Date.now() / 1000);
    const contentSha256 = createHash("sha256").update("the signed body").digest("hex");
    const answer = await fetch(`${rf.uploadUrl}${path}`, {
      method: "PUT",
      body: "another body",
      headers: {
        "x-mediaplane-node": node.id,
        "x-mediaplane-date": String(date),
        "x-mediaplane-content-sha256": contentSha256,
        authorization: `Mediaplane-HMAC ${uploadSignature(node.secret, { method: "PUT", path, date, contentSha256 })}`,
      },
    });
    expect(answer.status).toBe(400);
  });

  it("keeps the record ID and meeting of the metadata.xml the node wrote", async () => {
    const published = (await rf.record("globex", "metadata-kept"))!;
    const document = parseMetadataXml(await readFile(join(formatDirectory(rf.share, "globex", "published", "presentation", published.recordId), "metadata.xml"), "utf8"));
    expect(document.id).toBe(published.recordId);
    expect(document.meeting.externalId).toBe("globex~metadata-kept");
  });
});

/** BBB's post-publish script, as the fleet component installs it into `post_publish/`. */
const postPublishScript = fileURLToPath(new URL("../../../components/bbb/recording/mediaplane_upload.rb", import.meta.url));
/** Stands in for BBB's `bigbluebutton` user: any uid and gid but root's. */
const recordingUser = 10_099;

/**
 * Runs the post-publish script as BBB's publish worker runs it: `ruby <script> -m <recordID> -f <format>`
 * (record-and-playback/core/lib/recordandplayback/workers/base_worker.rb, `run_post_scripts` and `run_script`), as
 * the recording workers' user, not root (record-and-playback/core/systemd/bbb-rap-resque-worker.service:
 * `User=bigbluebutton`), from their working directory. The upload program is bound at the path the fleet component
 * installs it to, in a mount namespace of the test's own; the settings file sits in a directory of root's with
 * mode 711 and has the owner `settingsOwner` and mode 600, as the install command leaves it.
 */
async function runAsPublishWorker(recordId: string, node: { id: string; secret: string }, publishedDir: string, settings: { owner: number; uploadUrl?: string }): Promise<{ code: number; output: string }> {
  const root = await mkdtemp(join(tmpdir(), "mediaplane-publish-worker-"));
  try {
    await chmod(root, 0o755);
    const bin = join(root, "bin");
    await mkdir(bin, { mode: 0o755 });
    await copyFile(hookProgram, join(bin, "mediaplane-recording-upload"));
    await chmod(join(bin, "mediaplane-recording-upload"), 0o755);
    const settingsDir = join(root, "etc-mediaplane");
    await mkdir(settingsDir);
    await chmod(settingsDir, 0o711);
    const settingsFile = join(settingsDir, "recording-upload.env");
    await writeFile(settingsFile, recordingHookEnvironment(settings.uploadUrl ?? rf.uploadUrl, node.id, node.secret), { mode: 0o600 });
    await chown(settingsFile, settings.owner, settings.owner);
    const worker = `mount --bind "$0" ${dirname(recordingHookProgramFile)} && cd / && exec setpriv --reuid=${recordingUser} --regid=${recordingUser} --clear-groups ruby "$1" -m "$2" -f presentation`;
    const { stdout, stderr } = await run("unshare", ["--mount", "--", "sh", "-c", worker, bin, postPublishScript, recordId], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", MEDIAPLANE_UPLOAD_CONFIG: settingsFile, BBB_PUBLISHED_DIR: publishedDir, MEDIAPLANE_UPLOAD_ATTEMPTS: "1" },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe("the post-publish script, run as BBB's publish worker runs it", () => {
  /** A published recording taken off the share again, so that only the run under test can bring it back. */
  async function publishedElsewhere(meetingId: string): Promise<{ recordId: string; node: { id: string; secret: string }; publishedDir: string; onShare: string; directory: string }> {
    const published = (await rf.record("acme", meetingId))!;
    const onShare = formatDirectory(rf.share, "acme", "published", "presentation", published.recordId);
    await rm(onShare, { recursive: true });
    const nodeId = nodeIdOf(published.directory);
    // The recordings' temporary root is the test's own (mkdtemp, 700): BBB's user must reach its node's files.
    await chmod(dirname(rf.nodesDir), 0o755);
    return { recordId: published.recordId, node: nodeOf(nodeId), publishedDir: join(rf.nodesDir, nodeId, "published"), onShare, directory: published.directory };
  }

  it("brings the recording to the share, run with ruby as BBB's recording user, reading the settings the install command left it", async () => {
    const recording = await publishedElsewhere("worker-run");
    const result = await runAsPublishWorker(recording.recordId, recording.node, recording.publishedDir, { owner: recordingUser });
    expect(result.code, result.output).toBe(0);
    expect(await treeOf(recording.onShare)).toEqual(await treeOf(recording.directory));
  });

  it("cannot send anything when the settings file is root's alone, which is why the install command hands it to BBB's user", async () => {
    const recording = await publishedElsewhere("worker-root-settings");
    const result = await runAsPublishWorker(recording.recordId, recording.node, recording.publishedDir, { owner: 0 });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("MEDIAPLANE_UPLOAD_URL");
    expect(existsSync(recording.onShare)).toBe(false);
  });

  it("exits non-zero, so BBB logs the post-publish script as failed, when the platform does not answer", async () => {
    const recording = await publishedElsewhere("worker-platform-down");
    const result = await runAsPublishWorker(recording.recordId, recording.node, recording.publishedDir, { owner: recordingUser, uploadUrl: "http://127.0.0.1:9" });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("not sent after 1 attempts");
  });
});
