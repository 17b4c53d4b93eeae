import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM files of a throwaway CA and a server certificate it signed for the name `localhost` only. */
export interface LocalhostCertificates {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Removes the files. */
  close(): Promise<void>;
}

/** Made with openssl, valid for a day; no IP address is in the certificate, as with a managed cache's. */
export async function makeLocalhostCertificates(): Promise<LocalhostCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "mediaplane-tls-"));
  const file = (name: string): string => join(dir, name);
  await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "1", "-subj", "/CN=mediaplane test CA"]);
  await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=localhost"]);
  await writeFile(file("san.cnf"), "subjectAltName=DNS:localhost\n");
  await run("openssl", ["x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-out", file("server.pem"), "-days", "1", "-extfile", file("san.cnf")]);
  return { ca: file("ca.pem"), cert: file("server.pem"), key: file("server.key"), close: () => rm(dir, { recursive: true, force: true }) };
}
