/** What bbb-web sets on every API answer, errors included. */
export const xmlContentType = "text/xml;charset=utf-8";

// Characters XML 1.0 cannot carry at all: a client-supplied name with one of them must not break the document.
const forbiddenXmlChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const xmlEntities: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
const needsEscaping = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Escapes text for an XML element, dropping characters XML cannot represent. Plain text is returned as is. */
export function escapeXml(text: string): string {
  if (!needsEscaping.test(text)) return text;
  return text.replace(forbiddenXmlChars, "").replace(/[&<>"']/g, (c) => xmlEntities[c] ?? c);
}

const decodedEntities: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Reads an element's text back: entities and character references decoded, CDATA sections unwrapped. */
export function unescapeXml(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, data: string) => data.replace(/&/g, "&amp;").replace(/</g, "&lt;"))
    .replace(/&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([a-z]+));/g, (whole, hex?: string, dec?: string, name?: string) => {
      if (hex !== undefined) return String.fromCodePoint(Number.parseInt(hex, 16));
      if (dec !== undefined) return String.fromCodePoint(Number.parseInt(dec, 10));
      return decodedEntities[name ?? ""] ?? whole;
    });
}

export function element(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** The decoded text of the first `<name>` element, `undefined` when there is none. */
export function elementText(xml: string, name: string): string | undefined {
  const open = xml.indexOf(`<${name}>`);
  if (open === -1) return xml.includes(`<${name}/>`) ? "" : undefined;
  const start = open + name.length + 2;
  const end = xml.indexOf(`</${name}>`, start);
  return end === -1 ? undefined : unescapeXml(xml.slice(start, end));
}

export function successXml(inner: string): string {
  return `<response><returncode>SUCCESS</returncode>${inner}</response>`;
}

export function failedXml(messageKey: string, message: string): string {
  return `<response><returncode>FAILED</returncode>${element("messageKey", messageKey)}${element("message", message)}</response>`;
}

/**
 * The version document (bbb-web's `ApiController.index`): API version 2.0, and `bbbVersion` the release the nodes
 * run when the config says it (`bbbVersion`), else empty, as a node that does not reveal its version answers.
 */
export function versionXml(bbbVersion: string | undefined): string {
  return successXml(`<version>2.0</version><apiVersion>2.0</apiVersion>${bbbVersion === undefined ? "<bbbVersion/>" : element("bbbVersion", bbbVersion)}`);
}

/** Whether a node's answer is a BBB API document at all (an HTML error page or a truncated body is not). */
export function isBbbResponse(xml: string): boolean {
  return /^\s*(?:<\?xml[^>]*\?>\s*)?<response>[\s\S]*<\/response>\s*$/.test(xml) && xml.includes("<returncode>");
}
