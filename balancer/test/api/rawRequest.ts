import { connect } from "node:net";

export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection after answering. */
  closed: boolean;
}

function parseAnswer(raw: Buffer, closed: boolean): RawAnswer | undefined {
  const text = raw.toString("latin1");
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const [statusLine = "", ...headerLines] = text.slice(0, headEnd).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = raw.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), "latin1"));
  const length = Number(headers["content-length"] ?? body.length);
  if (body.length < length) return undefined;
  return { status: Number(statusLine.split(" ")[1]), headers, body: body.subarray(0, length).toString("utf8"), closed };
}

/**
 * Sends a request head announcing a body, and only `bodyStart` of that body; then waits (at most `timeoutMs`) for
 * the answer and for the server to close the connection. A server that waits for the rest of the body never
 * answers: the promise rejects.
 */
export function sendWithoutFullBody(
  url: string,
  request: { method: string; headers: Record<string, string>; bodyStart?: Buffer },
  timeoutMs = 5_000,
): Promise<RawAnswer> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      const partial = parseAnswer(Buffer.concat(received), false);
      if (partial !== undefined) resolve(partial);
      else reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      const answer = parseAnswer(Buffer.concat(received), true);
      if (answer === undefined) reject(new Error("the connection closed without a complete answer"));
      else resolve(answer);
    };
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("close", settle);
    socket.on("error", () => undefined);
    const head = [`${request.method} ${pathname}${search} HTTP/1.1`, `Host: ${hostname}:${port}`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`)];
    socket.write(`${head.join("\r\n")}\r\n\r\n`);
    if (request.bodyStart !== undefined) socket.write(request.bodyStart);
  });
}
