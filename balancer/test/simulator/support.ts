import { signQuery } from "../../src/bbb/checksum.js";
import type { ChecksumAlgorithm } from "../../src/config/schema.js";
import type { SimulatedNode } from "../../src/simulator/index.js";

export interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly location: string | null;
  readonly body: string;
}

async function answerOf(response: Response): Promise<Answer> {
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    location: response.headers.get("location"),
    body: await response.text(),
  };
}

/** Calls a node's API with `query` (already encoded) signed by `secret`, not following redirects. */
export async function callApi(
  node: SimulatedNode,
  secret: string,
  call: string,
  query: string,
  algorithm: ChecksumAlgorithm = "sha256",
): Promise<Answer> {
  return answerOf(await fetch(`${node.apiUrl}${call}?${signQuery(call, query, secret, algorithm)}`, { redirect: "manual" }));
}

export async function fetchAnswer(url: string, init: RequestInit = {}): Promise<Answer> {
  return answerOf(await fetch(url, { redirect: "manual", ...init }));
}

/** The text of the first `<name>` element, entities left as sent. */
export function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

export function tags(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, "g"))].map((m) => m[1] ?? "");
}
