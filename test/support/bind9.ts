import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../balancer/test/support/redis.js";
import { startDaemon } from "./daemon.js";

/** A TSIG key as RFC 2136 clients name it: the algorithm may carry the trailing dot lego and nsupdate accept. */
export interface TsigKey {
  readonly name: string;
  /** e.g. `hmac-sha512` or `hmac-sha512.` */
  readonly algorithm: string;
  /** base64, as `tsig-keygen` prints it */
  readonly secret: string;
}

export interface Bind9Options {
  /** The zone BIND serves as primary, e.g. `example.org`. */
  readonly zone: string;
  /** The key allowed to update any name in the zone (RFC 2136). */
  readonly tsigKey: TsigKey;
  /** Extra zone-file lines (relative names), after the SOA, NS and the name server's A record. */
  readonly records?: readonly string[];
  /** How long named may take to load the zone and answer. */
  readonly startTimeoutMs?: number;
}

/** A named a test started on loopback, serving one zone that the given TSIG key may update. */
export interface StartedBind9 {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** `127.0.0.1:<port>`: what RFC2136_NAMESERVER, pebble's -dnsserver and dig's @/-p take. */
  readonly address: string;
  /** Everything named logged so far (it runs with -g: logs on stderr). */
  output(): string;
  stop(): Promise<void>;
}

const bindAlgorithm = (algorithm: string): string => algorithm.replace(/\.$/, "");

function namedConf(dir: string, port: number, options: Bind9Options): string {
  const key = options.tsigKey;
  return [
    "options {",
    `  directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    "  listen-on-v6 { none; };",
    "  pid-file none;",
    `  session-keyfile "${join(dir, "session.key")}";`,
    `  managed-keys-directory "${dir}";`,
    "  recursion no;",
    "  dnssec-validation no;",
    "  allow-transfer { none; };",
    "  notify no;",
    "};",
    // No rndc channel: a test stops named with a signal, and rndc's default port may be taken by another named.
    "controls { };",
    `key "${key.name}" {`,
    `  algorithm ${bindAlgorithm(key.algorithm)};`,
    `  secret "${key.secret}";`,
    "};",
    `zone "${options.zone}" {`,
    "  type primary;",
    `  file "${join(dir, `${options.zone}.zone`)}";`,
    `  update-policy { grant "${key.name}" zonesub ANY; };`,
    "};",
    "",
  ].join("\n");
}

function zoneFile(options: Bind9Options): string {
  return [
    "$TTL 60",
    `@ IN SOA ns.${options.zone}. hostmaster.${options.zone}. 1 60 60 600 60`,
    `@ IN NS ns.${options.zone}.`,
    "ns IN A 127.0.0.1",
    ...(options.records ?? []),
    "",
  ].join("\n");
}

/**
 * Starts Debian's named (BIND 9) in the foreground on a free loopback port, in a temp dir holding its config, zone
 * and journal, and resolves once the zone is loaded and named serves it. Runs as the calling user (no -u: nothing
 * to drop to in a test). `stop` ends named and removes the temp dir.
 */
export async function startBind9(options: Bind9Options): Promise<StartedBind9> {
  const dir = await mkdtemp(join(tmpdir(), "mediaplane-bind9-"));
  const port = await freePort();
  const conf = join(dir, "named.conf");
  await writeFile(conf, namedConf(dir, port, options));
  await writeFile(join(dir, `${options.zone}.zone`), zoneFile(options));

  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const loaded = new RegExp(`zone ${options.zone.replace(/\./g, "\\.")}/IN: loaded serial`);
  const daemon = await startDaemon({
    command: "named",
    args: ["-g", "-4", "-c", conf],
    ready: (output) => loaded.test(output) && /running/.test(output),
    readyWhat: `serve zone ${options.zone}`,
    timeoutMs,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
  return { host: "127.0.0.1", port, address: `127.0.0.1:${port}`, output: daemon.output, stop: daemon.stop };
}
