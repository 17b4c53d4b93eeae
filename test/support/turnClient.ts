import { createHash, createHmac, randomBytes } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, isIPv6, type Socket as TcpSocket } from "node:net";
import { parseIpAddress } from "../../components/k8s/render/coturn.js";

/*
 * A small TURN client (RFC 5389 STUN framing, RFC 5766 TURN, RFC 6062 TCP allocations, RFC 6156 IPv6): enough to
 * allocate with long-term credentials and ask for permissions and channels, over UDP or a TCP control connection.
 */
const magicCookie = 0x2112a442;
export const turnMethods = { binding: 0x001, allocate: 0x003, createPermission: 0x008, channelBind: 0x009 } as const;
const attributes = {
  channelNumber: 0x000c,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  realm: 0x0014,
  nonce: 0x0015,
  xorPeerAddress: 0x0012,
  xorRelayedAddress: 0x0016,
  requestedAddressFamily: 0x0017,
  requestedTransport: 0x0019,
} as const;
export const transports = { udp: 17, tcp: 6 } as const;

export interface TurnAnswer {
  /** true for a success response, false for an error response. */
  readonly success: boolean;
  /** class * 100 + number of ERROR-CODE, when the answer carries one. */
  readonly errorCode: number | undefined;
  readonly attributes: ReadonlyMap<number, Buffer>;
}

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

function xorAddress(address: string, transactionId: Buffer): Buffer {
  const { value: number, bits } = parseIpAddress(address);
  const value = Buffer.alloc(4 + bits / 8);
  value.writeUInt8(bits === 128 ? 0x02 : 0x01, 1);
  value.writeUInt16BE(0x2112 ^ 3478, 2);
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
  for (let i = 0; i < bits / 8; i++) {
    const byte = Number((number >> BigInt(bits - 8 * (i + 1))) & 0xffn);
    value.writeUInt8(byte ^ (mask[i] ?? 0), 4 + i);
  }
  return value;
}

interface Credentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: Buffer;
  readonly key: Buffer;
}

/** Encodes a request; with credentials, USERNAME/REALM/NONCE and a MESSAGE-INTEGRITY over everything before it. */
function encode(method: number, body: (transactionId: Buffer) => Buffer[], credentials: Credentials | undefined): { message: Buffer; transactionId: Buffer } {
  const transactionId = randomBytes(12);
  const parts = body(transactionId);
  if (credentials !== undefined) {
    parts.push(attribute(attributes.username, Buffer.from(credentials.username)));
    parts.push(attribute(attributes.realm, Buffer.from(credentials.realm)));
    parts.push(attribute(attributes.nonce, credentials.nonce));
  }
  const header = (length: number) => {
    const buffer = Buffer.alloc(20);
    buffer.writeUInt16BE(method, 0);
    buffer.writeUInt16BE(length, 2);
    buffer.writeUInt32BE(magicCookie, 4);
    transactionId.copy(buffer, 8);
    return buffer;
  };
  const payload = Buffer.concat(parts);
  if (credentials === undefined) return { message: Buffer.concat([header(payload.length), payload]), transactionId };
  // The length field covers MESSAGE-INTEGRITY (24 bytes) when the HMAC is computed (RFC 5389 section 15.4).
  const signed = Buffer.concat([header(payload.length + 24), payload]);
  const integrity = attribute(attributes.messageIntegrity, createHmac("sha1", credentials.key).update(signed).digest());
  return { message: Buffer.concat([signed, integrity]), transactionId };
}

function decode(message: Buffer): TurnAnswer & { transactionId: Buffer } {
  const type = message.readUInt16BE(0);
  const found = new Map<number, Buffer>();
  for (let offset = 20; offset + 4 <= message.length; ) {
    const attributeType = message.readUInt16BE(offset);
    const length = message.readUInt16BE(offset + 2);
    found.set(attributeType, message.subarray(offset + 4, offset + 4 + length));
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  const error = found.get(attributes.errorCode);
  return {
    success: (type & 0x0110) === 0x0100,
    errorCode: error === undefined ? undefined : (error.readUInt8(2) & 0x07) * 100 + error.readUInt8(3),
    attributes: found,
    transactionId: message.subarray(8, 20),
  };
}

/**
 * Time-limited TURN credentials for `user`, as a TURN server with `use-auth-secret` checks them: user name
 * `<expiry unix time>:<user>`, password base64(HMAC-SHA1(static-auth-secret, user name)) (coturn 4.6.3,
 * src/apps/relay/userdb.c get_user_key: the part before the separator is the expiry, the HMAC covers the whole name).
 */
export function turnRestCredentials(staticAuthSecret: string, user: string, ttlSeconds: number): { username: string; password: string } {
  const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${user}`;
  return { username, password: createHmac("sha1", staticAuthSecret).update(username).digest("base64") };
}

/** One control connection to a TURN server. */
export class TurnClient {
  private credentials: Credentials | undefined;
  private readonly pending = new Map<string, (answer: TurnAnswer) => void>();
  private tcpBuffer = Buffer.alloc(0);

  private constructor(
    private readonly send: (message: Buffer) => void,
    private readonly close: () => void,
  ) {}

  /** Over UDP (IPv4 or IPv6 by the host's form). */
  static udp(host: string, port: number): TurnClient {
    const socket: UdpSocket = createSocket(isIPv6(host) ? "udp6" : "udp4");
    const client = new TurnClient((message) => socket.send(message, port, host), () => socket.close());
    socket.on("message", (message) => client.receive(message));
    return client;
  }

  /** Over a TCP control connection (what RFC 6062 TCP allocations need). */
  static async tcp(host: string, port: number): Promise<TurnClient> {
    const socket: TcpSocket = connect({ host, port });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new TurnClient((message) => socket.write(message), () => socket.destroy());
    socket.on("data", (chunk: Buffer) => client.receiveStream(chunk));
    socket.on("error", () => undefined);
    return client;
  }

  private receive(message: Buffer): void {
    if (message.length < 20) return;
    const answer = decode(message);
    const resolve = this.pending.get(answer.transactionId.toString("hex"));
    resolve?.(answer);
  }

  private receiveStream(chunk: Buffer): void {
    this.tcpBuffer = Buffer.concat([this.tcpBuffer, chunk]);
    while (this.tcpBuffer.length >= 20) {
      const total = 20 + this.tcpBuffer.readUInt16BE(2);
      if (this.tcpBuffer.length < total) return;
      this.receive(this.tcpBuffer.subarray(0, total));
      this.tcpBuffer = this.tcpBuffer.subarray(total);
    }
  }

  /** Sends one request and waits for its answer (retransmitting over UDP). */
  async request(method: number, body: (transactionId: Buffer) => Buffer[]): Promise<TurnAnswer> {
    const { message, transactionId } = encode(method, body, this.credentials);
    const key = transactionId.toString("hex");
    try {
      return await new Promise<TurnAnswer>((resolve, reject) => {
        let attempts = 0;
        const timer = setInterval(() => {
          if (++attempts > 10) {
            clearInterval(timer);
            reject(new Error(`no answer to TURN method 0x${method.toString(16)}`));
          } else this.send(message);
        }, 300);
        this.pending.set(key, (answer) => {
          clearInterval(timer);
          resolve(answer);
        });
        this.send(message);
      });
    } finally {
      this.pending.delete(key);
    }
  }

  /**
   * Allocates a relay with long-term credentials: the first request learns realm and nonce from the 401, the
   * second carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY keyed with MD5(username:realm:password).
   */
  async allocate(username: string, password: string, options: { transport: number; family?: "ipv4" | "ipv6" }): Promise<TurnAnswer> {
    const transport = Buffer.from([options.transport, 0, 0, 0]);
    const body = [
      attribute(attributes.requestedTransport, transport),
      ...(options.family === "ipv6" ? [attribute(attributes.requestedAddressFamily, Buffer.from([0x02, 0, 0, 0]))] : []),
    ];
    const challenge = await this.request(turnMethods.allocate, () => body);
    const realm = challenge.attributes.get(attributes.realm);
    const nonce = challenge.attributes.get(attributes.nonce);
    if (challenge.errorCode !== 401 || realm === undefined || nonce === undefined) return challenge;
    const key = createHash("md5").update(`${username}:${realm.toString()}:${password}`).digest();
    this.credentials = { username, realm: realm.toString(), nonce, key };
    return this.request(turnMethods.allocate, () => body);
  }

  /** Asks for a permission to exchange data with `peer` through the allocation. */
  createPermission(peer: string): Promise<TurnAnswer> {
    return this.request(turnMethods.createPermission, (transactionId) => [attribute(attributes.xorPeerAddress, xorAddress(peer, transactionId))]);
  }

  /** Binds a channel (0x4000-0x7FFF) to `peer`, which also installs a permission for it. */
  channelBind(peer: string, channel: number): Promise<TurnAnswer> {
    const number = Buffer.alloc(4);
    number.writeUInt16BE(channel, 0);
    return this.request(turnMethods.channelBind, (transactionId) => [
      attribute(attributes.channelNumber, number),
      attribute(attributes.xorPeerAddress, xorAddress(peer, transactionId)),
    ]);
  }

  end(): void {
    this.close();
  }
}

/** The relayed address's family byte of a successful Allocate answer (0x01 IPv4, 0x02 IPv6). */
export function relayedFamily(answer: TurnAnswer): number | undefined {
  return answer.attributes.get(attributes.xorRelayedAddress)?.readUInt8(1);
}
