/**
 * The shell commands that write one host's address record over RFC 2136 with nsupdate. The TSIG secret never
 * appears in them: the command reads it from its environment (`TSIG_SECRET`) and hands it to nsupdate on stdin,
 * with `printf`, a shell builtin, so it shows in no process's arguments.
 */

/** Where records are written and with which key; the secret itself travels separately. */
export interface Rfc2136Target {
  /** `host:port` of the primary, as `acme.nameserver` holds it (`[v6]:port` allowed). */
  readonly nameserver: string;
  readonly zone: string;
  readonly tsigKeyName: string;
  /** `hmac-sha512.` (lego's spelling) or `hmac-sha512`. */
  readonly tsigAlgorithm: string;
}

/** The environment variable the commands read the TSIG secret (base64) from. */
export const tsigSecretVariable = "TSIG_SECRET";

const absolute = (name: string): string => (name.endsWith(".") ? name : `${name}.`);

/** nsupdate's `server` takes host and port apart, without IPv6 brackets. */
export function serverOf(nameserver: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(nameserver);
  if (match === null) throw new Error(`nameserver "${nameserver}" is not host:port`);
  return { host: match[1] ?? "", port: Number(match[2]) };
}

/**
 * The command for a list of nsupdate statements: the key line from the environment, then the statements as a
 * quoted here-document (taken literally: nothing in it is expanded by the shell).
 */
function nsupdateCommand(target: Rfc2136Target, statements: readonly string[]): string {
  const { host, port } = serverOf(target.nameserver);
  const algorithm = target.tsigAlgorithm.replace(/\.$/, "");
  return [
    "{",
    `  printf 'key ${algorithm}:${target.tsigKeyName} %s\\n' "$${tsigSecretVariable}"`,
    "  cat <<'NSUPDATE'",
    `server ${host} ${port}`,
    `zone ${absolute(target.zone)}`,
    ...statements,
    "send",
    "NSUPDATE",
    "} | nsupdate",
  ].join("\n");
}

/**
 * Sets the name's A record to exactly this address: the old set goes and the new one comes in one update, so a
 * changed address replaces the old one, and running it again leaves the zone as it is.
 */
export function setAddressCommand(target: Rfc2136Target, name: string, address: string, ttlSeconds: number): string {
  return nsupdateCommand(target, [`update delete ${absolute(name)} A`, `update add ${absolute(name)} ${ttlSeconds} A ${address}`]);
}

/** Removes the name's A records; a name without any is left as it is (RFC 2136 deletes of nothing succeed). */
export function removeAddressCommand(target: Rfc2136Target, name: string): string {
  return nsupdateCommand(target, [`update delete ${absolute(name)} A`]);
}
