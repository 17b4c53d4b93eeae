import { connect } from "node:net";

export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection after answering. */
  closed: boolean;
}

function parseAnswer(raw: Buffer, closed: boolean, bodiless: boolean): RawAnswer | undefined {
  const text = raw.toString("latin1");
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const [statusLine = "", ...headerLines] = text.slice(0, headEnd).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = bodiless ? Buffer.alloc(0) : raw.subarray(headEnd + 4);
  const length = bodiless ? 0 : Number(headers["content-length"] ?? body.length);
  if (body.length < length) return undefined;
  return { status: Number(statusLine.split(" ")[1]), headers, body: body.subarray(0, length).toString("utf8"), closed };
}

export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  /** What is sent of the body: all of it, or (with a larger Content-Length) only its start. */
  body?: Buffer;
}

/** Bodies up to this size fit the server's buffers: it takes them whole even when it refuses them unread. */
const earlyAnswerBodyBytes = 16 * 1024;
const earlyAnswerWaitMs = 200;

/**
 * Sends a request over a socket of its own, exactly as given (the target as written, no client-side checks), and
 * waits (at most `timeoutMs`) for the answer and for the server to close the connection. A server that resets the
 * connection after answering (a refused body it never read) still gives its answer. Rejects when no complete
 * answer arrives: a server waiting for a body it was only partly sent never answers.
 */
export function sendRaw(url: string, request: RawRequest, timeoutMs = 5_000): Promise<RawAnswer> {
  const { hostname, port, pathname, search } = new URL(url);
  const bodiless = request.method === "HEAD";
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      const partial = parseAnswer(Buffer.concat(received), false, bodiless);
      if (partial !== undefined) resolve(partial);
      else reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("close", () => {
      clearTimeout(timer);
      const answer = parseAnswer(Buffer.concat(received), true, bodiless);
      if (answer === undefined) reject(new Error("the connection closed without a complete answer"));
      else resolve(answer);
    });
    // EPIPE/ECONNRESET while sending a body the server refused: the answer, if any, is judged on close.
    socket.on("error", () => undefined);
    const head = [`${request.method} ${pathname}${search} HTTP/1.1`, `Host: ${hostname}:${port}`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`)];
    socket.write(`${head.join("\r\n")}\r\n\r\n`);
    const body = request.body;
    if (body === undefined) return;
    // A server that refuses a large body unread answers and closes: were we still writing, the reset it sends
    // would fail our write and lose its answer. So a large body waits for an early answer, as a careful client does.
    if (body.length <= earlyAnswerBodyBytes) socket.write(body);
    else setTimeout(() => received.length === 0 && !socket.destroyed && socket.write(body), earlyAnswerWaitMs);
  });
}
