import { BlockList, isIP } from "node:net";
import { ConfigError } from "../config/schema.js";

/** Peers whose `X-Forwarded-*` headers are believed: built once from `TRUSTED_PROXIES`. */
export interface TrustedProxies {
  trusts(peerAddress: string | undefined): boolean;
}

function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address);
    if (family === 0) throw new ConfigError(`environment variable TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      throw new ConfigError(`environment variable TRUSTED_PROXIES: "${entry}" has an invalid prefix length`);
    }
    list.addSubnet(address, bits, type);
  }
  const none = entries.length === 0;
  return {
    trusts(peerAddress) {
      if (none || peerAddress === undefined) return false;
      const address = plainAddress(peerAddress);
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
    },
  };
}
