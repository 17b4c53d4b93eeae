import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ICertificate, IIssuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Rfc2136Solver } from "../../components/k8s/render/certManager.js";
import { startBind9, type StartedBind9, type TsigKey } from "../support/bind9.js";
import { startPebble, type StartedPebble } from "../support/pebble.js";
import { declareWithMocks, findObject, objectOf, type DeclaredResource } from "./support/declared.js";
import { legoRfc2136Environment } from "./support/legoRfc2136.js";

/**
 * A wildcard certificate ordered for real with the RFC2136 values the program renders for its cert-manager Issuer:
 * BIND 9 serves the zone with the stack's TSIG key, pebble is the ACME CA (it looks the DNS-01 answer up at that
 * BIND), and lego (the ACME library traefik is built on) solves the challenge with the Issuer's solver mapped onto
 * its RFC2136_* settings by `legoRfc2136Environment`. Only the name server address (a loopback port instead of
 * `ns1.<zone>:53`) and the CA (pebble instead of Let's Encrypt) are swapped.
 *
 * What this proves: the rendered key name, algorithm and secret sign updates the name server accepts; the
 * challenge record lands in the zone the client finds by SOA lookup, where the CA looks for it (the delegation of
 * `_acme-challenge.<apiBase>` to that zone); a certificate for `*.<apiBase>`, every tenant host, is issued; a wrong
 * secret is refused. What it does not prove: cert-manager's own controller, webhook and Certificate workflow, which
 * do not run here; lego and cert-manager share the RFC2136 protocol and these values, not code.
 */

const run = promisify(execFile);
const zone = "example.test";
const apiBase = `api.${zone}`;
const tsigSecret = Buffer.alloc(64, 11).toString("base64");

let declared: DeclaredResource[];
let bind: StartedBind9;
let pebble: StartedPebble;
let workDir: string;

beforeAll(async () => {
  ({ declared } = await declareWithMocks(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const { CertManager } = await import("../../components/k8s/CertManager.js");
    new CertManager("certificates", {
      provider: new k8s.Provider("cluster", { kubeconfig: "{}" }),
      namespace: "mediaplane",
      acme: {
        email: "ops@example.test",
        server: "https://acme-v02.api.letsencrypt.org/directory",
        nameserver: `ns1.${zone}:53`,
        tsigKeyName: "mediaplane-acme",
        tsigAlgorithm: "hmac-sha512.",
        tsigSecret,
      },
      certificates: [{ name: "ingress", dnsNames: [apiBase, `*.${apiBase}`] }],
    });
    return {};
  }));
  const solver = rfc2136Solver();
  const key: TsigKey = { name: solver.tsigKeyName, algorithm: legoRfc2136Environment(solver, "").RFC2136_TSIG_ALGORITHM ?? "", secret: tsigSecret };
  bind = await startBind9({ zone, tsigKey: key });
  pebble = await startPebble(bind.address);
  workDir = await mkdtemp(join(tmpdir(), "mediaplane-lego-"));
});

afterAll(async () => {
  await pebble?.stop();
  await bind?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

function rfc2136Solver(): Rfc2136Solver {
  const solvers = objectOf<IIssuer>(declared, "kubernetes:cert-manager.io/v1:Issuer", "acme-dns01").spec?.acme?.solvers ?? [];
  const solver = solvers[0]?.dns01?.rfc2136;
  if (solvers.length !== 1 || solver === undefined) throw new Error("the Issuer has no single RFC2136 solver");
  return solver as Rfc2136Solver;
}

/** The TSIG secret as the Issuer finds it: the value under the key its solver names, in the Secret it names. */
function renderedTsigSecret(): string {
  const ref = rfc2136Solver().tsigSecretSecretRef;
  const secret = findObject(declared, "kubernetes:core/v1:Secret", ref.name).inputs["stringData"] as Record<string, string>;
  const value = secret[ref.key];
  if (value === undefined) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
  return value;
}

/** lego ordering the rendered Certificate's names from pebble; its exit code, output and the certificate if any. */
async function order(account: string, secret: string): Promise<{ code: number; output: string; certificate: X509Certificate | undefined }> {
  const issuer = objectOf<IIssuer>(declared, "kubernetes:cert-manager.io/v1:Issuer", "acme-dns01");
  const dnsNames = objectOf<ICertificate>(declared, "kubernetes:cert-manager.io/v1:Certificate", "ingress").spec?.dnsNames ?? [];
  const path = join(workDir, account);
  const env = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    LEGO_CA_CERTIFICATES: pebble.apiCertificateFile,
    ...legoRfc2136Environment(rfc2136Solver(), secret),
    RFC2136_NAMESERVER: bind.address,
  };
  const args = [
    "--accept-tos", "--email", issuer.spec?.acme?.email ?? "", "--server", pebble.directory, "--path", path, "--key-type", "ec384",
    "--dns", "rfc2136",
    // The zone is found by SOA lookup at these resolvers; BIND stands in for the public DNS that delegates to it.
    "--dns.resolvers", bind.address,
    // lego would then ask the zone's NS (`ns.<zone>` on port 53) directly; pebble's lookup at BIND checks instead.
    "--dns.disable-cp",
    ...dnsNames.flatMap((name) => ["--domains", name]),
    "run",
  ];
  const result = await run("lego", args, { env, timeout: 90_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: `${error.stdout ?? ""}${error.stderr ?? ""}` }),
  );
  const files = await readdir(join(path, "certificates")).catch(() => [] as string[]);
  const pem = files.find((file) => file.endsWith(".crt") && !file.endsWith(".issuer.crt"));
  const certificate = pem === undefined ? undefined : new X509Certificate(await readFile(join(path, "certificates", pem)));
  return { ...result, certificate };
}

describe("DNS-01 over RFC2136 with the Issuer the program renders", () => {
  it("gets a certificate for the API base and every tenant host under it (*.<apiBase>)", async () => {
    // Each name's record is checked once per polling interval (cert-manager's 10 s retry period): two names, ~25 s.
    const result = await order("issued", renderedTsigSecret());
    expect(result.code, result.output).toBe(0);
    expect(result.certificate?.subjectAltName?.split(", ").sort()).toEqual([`DNS:*.${apiBase}`, `DNS:${apiBase}`]);
    expect(result.certificate?.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
  }, 120_000);

  it("is refused by the name server when the TSIG secret is not the stack's", async () => {
    const result = await order("wrong-secret", Buffer.alloc(64, 12).toString("base64"));
    expect(result.code).not.toBe(0);
    expect(result.certificate).toBeUndefined();
    expect(result.output).toMatch(/rfc2136: failed to insert: DNS update failed: dns: bad authentication/);
    expect(bind.output()).toMatch(/tsig verify failure \(BADSIG\)/);
  }, 120_000);
});
