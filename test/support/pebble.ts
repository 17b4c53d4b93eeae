import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../balancer/test/support/redis.js";
import { startDaemon } from "./daemon.js";

const run = promisify(execFile);

/** A pebble (the ACME test CA) a test started on loopback, validating DNS-01 against one name server. */
export interface StartedPebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** PEM file of the certificate pebble's HTTPS API presents: what an ACME client must trust to talk to it. */
  readonly apiCertificateFile: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Debian's pebble in a temp dir: its HTTPS API on a free loopback port with a throwaway certificate, DNS-01
 * answers looked up at `dnsServer` (`host:port`), no random validation sleeps, no rejected nonces and no reuse of
 * earlier authorizations, so each order is validated afresh. `stop` ends it and removes the temp dir.
 */
export async function startPebble(dnsServer: string): Promise<StartedPebble> {
  const dir = await mkdtemp(join(tmpdir(), "mediaplane-pebble-"));
  const [port, managementPort] = [await freePort(), await freePort()];
  const certificate = join(dir, "api.pem");
  const key = join(dir, "api-key.pem");
  await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-keyout", key, "-out", certificate, "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
  ]);
  const config = join(dir, "pebble.json");
  await writeFile(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate,
        privateKey: key,
        // Ports pebble would connect to for HTTP-01 and TLS-ALPN-01; unused by DNS-01.
        httpPort: 5002,
        tlsPort: 5001,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const daemon = await startDaemon({
    command: "pebble",
    args: ["-config", config, "-dnsserver", dnsServer],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
    ready: (output) => /Listening on: /.test(output),
    readyWhat: "listen",
    timeoutMs: 10_000,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
  return { directory: `https://127.0.0.1:${port}/dir`, apiCertificateFile: certificate, output: daemon.output, stop: daemon.stop };
}
