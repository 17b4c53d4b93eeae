import { request } from "undici";

/** B3LB's node agent serves the CPU figure as text, 0..10000. */
export function parseCpuFigure(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+(?:\.\d+)?$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value <= 10_000 ? value : undefined;
}

/** Fetches a node's CPU figure within `timeoutMs`; throws with a short reason when it cannot. */
export async function fetchCpuFigure(loadUrl: string, timeoutMs: number): Promise<number> {
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  try {
    const { statusCode, body } = await request(loadUrl, { method: "GET", signal });
    text = await body.text();
    if (statusCode !== 200) throw new Error(`HTTP ${statusCode}`);
  } catch (error) {
    throw new Error(signal.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message);
  }
  const cpu = parseCpuFigure(text);
  if (cpu === undefined) throw new Error("not a number 0..10000");
  return cpu;
}
