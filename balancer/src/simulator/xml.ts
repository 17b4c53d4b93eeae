/** What bbb-web sets on every API answer, errors included. */
export const xmlContentType = "text/xml;charset=utf-8";

// Characters XML 1.0 cannot carry at all: a client-supplied name with one of them must not break the document.
const forbiddenXmlChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const xmlEntities: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Escapes text as bbb-web's FreeMarker XML output format does, dropping characters XML cannot represent. */
// Most values (IDs, counts, plain names) need no escaping: one scan decides, so getMeetings renders fast.
const needsEscaping = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

export function escapeXml(text: string): string {
  if (!needsEscaping.test(text)) return text;
  return text.replace(forbiddenXmlChars, "").replace(/[&<>"']/g, (c) => xmlEntities[c] ?? c);
}

export type XmlValue = string | number | boolean;

/** `<name>escaped value</name>`. */
export function element(name: string, value: XmlValue): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** Elements in the given order; the order is part of the contract clients parse against. */
export function elements(fields: ReadonlyArray<readonly [string, XmlValue]>): string {
  return fields.map(([name, value]) => element(name, value)).join("");
}

export function response(inner: string): string {
  return `<response>${inner}</response>`;
}
