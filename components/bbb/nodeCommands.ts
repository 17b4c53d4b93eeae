import {
  loadAgentEnvironmentFile,
  settingsDirectory,
  loadAgentNginxFile,
  loadAgentNginxLocation,
  loadAgentProgram,
  loadAgentProgramFile,
  loadAgentUnit,
  loadAgentUnitName,
} from "./loadAgentFiles.js";
import { readFileSync } from "node:fs";
import { bbbReleases, type BbbRelease } from "./versions.js";

/**
 * The commands that turn a fresh Ubuntu VM into a BBB node. None of them holds a secret in its text: the agent's
 * token arrives on the command's stdin; everything else here is public (host names, the ACME e-mail, versions).
 */

/** bbb-install from the release's own branch, with its version line, the node's name and the ACME account. */
export function bbbInstallCommand(release: BbbRelease, fqdn: string, acmeEmail: string): string {
  const { installerBranch, versionLine } = bbbReleases[release];
  return [
    "set -eu",
    // A fresh Azure image is still running its first-boot apt work; bbb-install would fight it for the dpkg lock.
    "sudo cloud-init status --wait >/dev/null",
    `curl -fsSL -o /tmp/bbb-install.sh https://raw.githubusercontent.com/bigbluebutton/bbb-install/${installerBranch}/bbb-install.sh`,
    // -w: UFW on the node as well as the network security group in front of it.
    `sudo bash /tmp/bbb-install.sh -v ${versionLine} -s ${fqdn} -e ${acmeEmail} -w`,
  ].join("\n");
}

/** How long the node's API gets to answer after the install, polled from where `pulumi up` runs. */
export const apiReadyWait = { attempts: 60, intervalSeconds: 10 } as const;

/** Succeeds once the node's API root answers SUCCESS over HTTPS (its certificate and nginx included). */
export function apiReadyCommand(fqdn: string): string {
  const url = `https://${fqdn}/bigbluebutton/api`;
  const minutes = (apiReadyWait.attempts * apiReadyWait.intervalSeconds) / 60;
  return [
    `for attempt in $(seq 1 ${apiReadyWait.attempts}); do`,
    `  if curl -fsS --max-time 10 ${url} | grep -q '<returncode>SUCCESS</returncode>'; then exit 0; fi`,
    `  sleep ${apiReadyWait.intervalSeconds}`,
    "done",
    `echo "${fqdn}: the BBB API at ${url} did not answer SUCCESS within ${minutes} minutes" >&2`,
    "exit 1",
  ].join("\n");
}

/** Prints only the node's API secret (bbb-conf --secret prints URL, Secret and a link, one per line). */
export const readApiSecretCommand = "sudo bbb-conf --secret | awk '$1 == \"Secret:\" { print $2 }'";

/** The secret out of the secret command's output; a node that printed none is an error, not an empty secret. */
export function apiSecretOf(stdout: string, fqdn: string): string {
  const secret = stdout.trim();
  if (secret === "") throw new Error(`${fqdn}: bbb-conf --secret printed no secret`);
  return secret;
}

/** A file written verbatim: a quoted here-document, so the shell expands nothing inside. */
function writeFile(path: string, content: string, delimiter: string): string[] {
  if (content.split("\n").includes(delimiter)) throw new Error(`${path}: its content contains the line ${delimiter}`);
  return [`sudo tee ${path} >/dev/null <<'${delimiter}'`, content.replace(/\n$/, ""), delimiter];
}

/**
 * Installs the load agent as a systemd service and its nginx location, then (re)starts both. Its stdin is the
 * agent's environment file (`LOAD_AGENT_TOKEN=...`), written with mode 600 before anything else reads stdin.
 */
export function loadAgentInstallCommand(): string {
  return [
    "set -eu",
    "sudo install -d -m 0755 /usr/local/lib/mediaplane",
    `sudo install -d -m 0711 ${settingsDirectory}`,
    `sudo sh -c 'umask 077 && cat > ${loadAgentEnvironmentFile}'`,
    ...writeFile(loadAgentProgramFile, loadAgentProgram(), "MEDIAPLANE_LOAD_AGENT"),
    ...writeFile(`/etc/systemd/system/${loadAgentUnitName}`, loadAgentUnit(), "MEDIAPLANE_UNIT"),
    ...writeFile(loadAgentNginxFile, loadAgentNginxLocation(), "MEDIAPLANE_NGINX"),
    "sudo systemctl daemon-reload",
    `sudo systemctl enable ${loadAgentUnitName}`,
    `sudo systemctl restart ${loadAgentUnitName}`,
    "sudo nginx -t",
    "sudo systemctl reload nginx",
  ].join("\n");
}

/** The agent's environment file, as the install command's stdin. */
export function loadAgentEnvironment(token: string): string {
  return `LOAD_AGENT_TOKEN=${token}\n`;
}

/** The post-publish hook that sends each published recording to the platform (docs/recordings.md). */
export const recordingHookProgramFile = "/usr/local/bin/mediaplane-recording-upload";
/** BBB runs every `*.rb` here after publishing a format: `ruby <script> -m <recordID> -f <format>`. */
export const recordingHookScriptFile = "/usr/local/bigbluebutton/core/scripts/post_publish/mediaplane_upload.rb";
/**
 * `MEDIAPLANE_UPLOAD_URL`, `MEDIAPLANE_NODE_ID`, `MEDIAPLANE_NODE_SECRET`; written from stdin, mode 600 and owned by
 * the user BBB's recording workers run as (`bbb-rap-resque-worker.service`: `User=bigbluebutton`), who runs the hook.
 */
export const recordingHookEnvironmentFile = `${settingsDirectory}/recording-upload.env`;
/** The user BBB's recording workers, and so its post-publish scripts, run as. */
export const recordingWorkerUser = "bigbluebutton";

const recordingFile = (name: string): string => readFileSync(new URL(`./recording/${name}`, import.meta.url), "utf8");

/** Installs the recording hook (the program and BBB's post-publish script); its stdin is the hook's environment file. */
export function recordingHookInstallCommand(): string {
  return [
    "set -eu",
    `sudo install -d -m 0711 ${settingsDirectory}`,
    `sudo sh -c 'umask 077 && cat > ${recordingHookEnvironmentFile}'`,
    `sudo chown ${recordingWorkerUser}:${recordingWorkerUser} ${recordingHookEnvironmentFile}`,
    ...writeFile(recordingHookProgramFile, recordingFile("mediaplane-recording-upload"), "MEDIAPLANE_RECORDING_HOOK"),
    `sudo chmod 0755 ${recordingHookProgramFile}`,
    ...writeFile(recordingHookScriptFile, recordingFile("mediaplane_upload.rb"), "MEDIAPLANE_POST_PUBLISH"),
  ].join("\n");
}

const shellQuoted = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;

/** The hook's environment file, as the install command's stdin: the platform's URL and the node's identity. */
export function recordingHookEnvironment(platformUrl: string, nodeId: string, apiSecret: string): string {
  return [`MEDIAPLANE_UPLOAD_URL=${shellQuoted(platformUrl)}`, `MEDIAPLANE_NODE_ID=${shellQuoted(nodeId)}`, `MEDIAPLANE_NODE_SECRET=${shellQuoted(apiSecret)}`, ""].join("\n");
}
