import { element } from "../bbb/xml.js";

/** The simulator writes XML exactly as the balancer does: one escaper, one content type (`bbb/xml.ts`). */
export { element, escapeXml, xmlContentType } from "../bbb/xml.js";

export type XmlValue = string | number | boolean;

/** Elements in the given order; the order is part of the contract clients parse against. */
export function elements(fields: ReadonlyArray<readonly [string, XmlValue]>): string {
  return fields.map(([name, value]) => element(name, value)).join("");
}

export function response(inner: string): string {
  return `<response>${inner}</response>`;
}
