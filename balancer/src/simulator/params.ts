import type { PresentationSource } from "./model.js";

function decodeFormComponent(text: string): string {
  const spaced = text.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A servlet container skips what it cannot decode rather than failing the request; keeping it raw is as lenient.
    return spaced;
  }
}

/**
 * Parses `a=1&b=2` as a servlet container does for `getParameter`: `+` is a space, the first value of a
 * repeated name wins, a name without `=` has the empty value.
 */
export function parseForm(encoded: string): Record<string, string> {
  const params: Record<string, string> = {};
  if (encoded === "") return params;
  for (const pair of encoded.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? "" : decodeFormComponent(pair.slice(eq + 1));
    if (!Object.hasOwn(params, name)) params[name] = value;
  }
  return params;
}

/** Java's `URLEncoder.encode(s, "UTF-8")`: only `A-Za-z0-9.-*_` stay, a space becomes `+`. */
export function javaUrlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}

/**
 * The string bbb-web 2.x signed for a POST whose parameters came only in a form body: every parameter but
 * the checksum, sorted by name, each form-encoded.
 */
export function sortedFormQuery(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((name) => name !== "checksum")
    .sort()
    .map((name) => `${javaUrlEncode(name)}=${javaUrlEncode(params[name] ?? "")}`)
    .join("&");
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  const raw = match?.[1] ?? match?.[2];
  return raw === undefined ? undefined : decodeXmlEntities(raw);
}

function decodeXmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    if (entity.startsWith("#x")) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[entity] ?? "";
  });
}

/**
 * The documents of a `<modules><module name="presentation">…` body. Only what a test needs to see is kept:
 * which URLs (or inline files) were handed over; the slides themselves are never fetched.
 */
export function parseModulesDocuments(xml: string, via: PresentationSource["via"]): PresentationSource[] | undefined {
  if (!/<modules[\s>]/.test(xml)) return undefined;
  const documents: PresentationSource[] = [];
  for (const match of xml.matchAll(/<document\b([^>]*?)(\/?)>/g)) {
    const tag = match[1] ?? "";
    const url = attribute(tag, "url");
    const filename = attribute(tag, "filename");
    const name = attribute(tag, "name");
    documents.push({
      via,
      inline: url === undefined,
      ...(url === undefined ? {} : { url }),
      ...(filename === undefined ? {} : { filename }),
      ...(name === undefined ? {} : { name }),
    });
  }
  return documents;
}
