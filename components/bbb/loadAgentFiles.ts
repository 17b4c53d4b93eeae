import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * What installs the CPU-load agent (`agent/loadAgent.ts`) on a BBB node: the program as one plain JavaScript file
 * for the node's own Node.js (BigBlueButton installs it), its systemd unit, and the nginx location that serves it
 * over HTTPS next to the BBB API.
 */

/** The path the balancer's `loadUrl` names (B3LB's agent answers there too). */
export const loadAgentPath = "/b3lb/load";
/** Loopback port the agent listens on; only the node's nginx reaches it. */
export const loadAgentPort = 9890;
export const loadAgentUnitName = "mediaplane-load-agent.service";
export const loadAgentProgramFile = "/usr/local/lib/mediaplane/load-agent.mjs";
/**
 * The node's mediaplane settings: root's, traversable (mode 711) so that each file's own owner and mode decide who
 * reads it (the recording hook's belongs to BBB's recording user).
 */
export const settingsDirectory = "/etc/mediaplane";
/** Holds `LOAD_AGENT_TOKEN=...`, mode 600 (root's: systemd reads it for the agent), written from the install command's stdin. */
export const loadAgentEnvironmentFile = `${settingsDirectory}/load-agent.env`;
/** bbb-install's nginx site includes `/etc/bigbluebutton/nginx/*.nginx` inside its HTTPS server block. */
export const loadAgentNginxFile = "/etc/bigbluebutton/nginx/mediaplane-load-agent.nginx";

/** The URL the balancer polls: the token rides in the query, as its poller sends a plain GET. */
export function loadAgentUrl(fqdn: string, token: string): string {
  return `https://${fqdn}${loadAgentPath}?token=${encodeURIComponent(token)}`;
}

let transpiled: string | undefined;

/**
 * The agent as the node runs it: its TypeScript source with the types stripped, ES module, no imports but node:*.
 * The compiler is loaded only here (it takes a good half second): stacks without nodes of their own never pay for it.
 */
export function loadAgentProgram(): string {
  if (transpiled === undefined) {
    const ts = createRequire(import.meta.url)("typescript") as typeof import("typescript");
    const source = readFileSync(new URL("./agent/loadAgent.ts", import.meta.url), "utf8");
    transpiled = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, removeComments: false },
      fileName: "loadAgent.ts",
    }).outputText;
  }
  return transpiled;
}

/** The systemd unit: an unprivileged throwaway user, read-only system, loopback only; restarted if it dies. */
export function loadAgentUnit(): string {
  return [
    "[Unit]",
    "Description=mediaplane CPU-load agent (the balancer's load figure, 0..10000)",
    "After=network.target",
    "",
    "[Service]",
    `ExecStart=/usr/bin/node ${loadAgentProgramFile}`,
    `EnvironmentFile=${loadAgentEnvironmentFile}`,
    `Environment=LOAD_AGENT_LISTEN=127.0.0.1:${loadAgentPort} LOAD_AGENT_PATH=${loadAgentPath}`,
    "DynamicUser=yes",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "CapabilityBoundingSet=",
    "RestrictAddressFamilies=AF_INET AF_INET6",
    "Restart=always",
    "RestartSec=2",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The nginx location: exact path to the loopback agent; not logged, because the token is in the query string. */
export function loadAgentNginxLocation(upstreamPort: number = loadAgentPort): string {
  return [
    `location = ${loadAgentPath} {`,
    "  access_log off;",
    `  proxy_pass http://127.0.0.1:${upstreamPort};`,
    "  proxy_read_timeout 5s;",
    "}",
    "",
  ].join("\n");
}
