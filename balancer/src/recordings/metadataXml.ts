import { XMLBuilder, XMLParser } from "fast-xml-parser";
import type { BreakoutOf } from "./recording.js";

/**
 * A recording's `metadata.xml` exactly as BBB writes it (one per format, in
 * `/var/bigbluebutton/published/<format>/<recordID>/`): the shape of bbb-common-web's `RecMeta.toMetadataXml`
 * (`bbb-common-web/src/main/scala/org/bigbluebutton/api2/domain/Recording.scala`) and of its test sample
 * `sample-metadata.xml` (`<size>` after `<extensions>` in `<playback>`, `<raw_size>` last). Read the way bbb-web
 * reads it (`RecMeta.getRecMeta`): `<meta>` children in document order, text as is; edits (state, metadata) change
 * only their elements and keep everything else of the document, as bbb-web's rewrite keeps what it knows.
 */

export interface PreviewImageXml {
  readonly link: string;
  readonly width?: string;
  readonly height?: string;
  readonly alt?: string;
}

export interface PlaybackXml {
  readonly format: string;
  readonly link: string;
  readonly processingTime: number;
  readonly duration: number;
  readonly size: number;
  readonly previewImages: readonly PreviewImageXml[];
}

export interface MeetingXml {
  readonly id: string;
  readonly externalId: string;
  readonly name: string;
  readonly breakout: boolean;
}

/** One format's metadata.xml, the node's view (its meeting ID, the balancer's metadata). */
export interface RecordingDocument {
  readonly id: string;
  readonly state: string;
  readonly published: boolean;
  readonly startTime: number;
  readonly endTime: number;
  readonly participants: number;
  readonly rawSize: number;
  readonly meeting: MeetingXml;
  /** `<meta>` children in document order. */
  readonly meta: ReadonlyArray<readonly [string, string]>;
  readonly breakout?: BreakoutOf;
  readonly breakoutRooms: readonly string[];
  readonly playback: PlaybackXml;
}

export class MetadataXmlError extends Error {
  override readonly name = "MetadataXmlError";
}

/** Larger than any metadata.xml BBB writes (a few KiB, a few hundred preview images at most). */
export const maxMetadataXmlBytes = 1024 * 1024;

type XmlNode = Record<string, unknown>;
const attributesKey = ":@";
const textKey = "#text";

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});
const builder = new XMLBuilder({ preserveOrder: true, ignoreAttributes: false, suppressEmptyNode: true });

function tagOf(node: XmlNode): string | undefined {
  return Object.keys(node).find((key) => key !== attributesKey);
}

function childrenOf(node: XmlNode): XmlNode[] {
  const tag = tagOf(node);
  const children = tag === undefined ? undefined : node[tag];
  return Array.isArray(children) ? (children as XmlNode[]) : [];
}

function attributeOf(node: XmlNode, name: string): string | undefined {
  const attributes = node[attributesKey];
  if (typeof attributes !== "object" || attributes === null) return undefined;
  const value = (attributes as Record<string, unknown>)[`@_${name}`];
  return typeof value === "string" ? value : undefined;
}

function textOf(node: XmlNode): string {
  return childrenOf(node)
    .map((child) => (typeof child[textKey] === "string" ? child[textKey] : ""))
    .join("");
}

const elementsOf = (node: XmlNode): XmlNode[] => childrenOf(node).filter((child) => tagOf(child) !== textKey);
const firstElement = (node: XmlNode, tag: string): XmlNode | undefined => elementsOf(node).find((child) => tagOf(child) === tag);

function parseDocument(xml: string): XmlNode[] {
  if (Buffer.byteLength(xml) > maxMetadataXmlBytes) throw new MetadataXmlError(`metadata.xml is larger than ${maxMetadataXmlBytes} bytes`);
  // BBB never writes a DOCTYPE; refusing it keeps entity tricks out of a file a node sent.
  if (/<!DOCTYPE/i.test(xml)) throw new MetadataXmlError("metadata.xml must not have a DOCTYPE");
  let nodes: unknown;
  try {
    nodes = parser.parse(xml, true);
  } catch (error) {
    throw new MetadataXmlError(`metadata.xml is not well-formed XML: ${error instanceof Error ? error.message : String(error)}`);
  }
  return Array.isArray(nodes) ? (nodes as XmlNode[]) : [];
}

function recordingElement(nodes: readonly XmlNode[]): XmlNode {
  const recording = nodes.find((node) => tagOf(node) === "recording");
  if (recording === undefined) throw new MetadataXmlError("metadata.xml has no <recording> element");
  return recording;
}

function requiredText(parent: XmlNode, tag: string, where: string): string {
  const element = firstElement(parent, tag);
  if (element === undefined) throw new MetadataXmlError(`metadata.xml: <${where}> has no <${tag}>`);
  return textOf(element);
}

/** bbb-web's `getValLong`/`getValInt`: a missing or empty element is the default; anything but digits is refused. */
function wholeNumber(parent: XmlNode, tag: string, where: string, fallback = 0): number {
  const text = firstElement(parent, tag) === undefined ? "" : requiredText(parent, tag, where).trim();
  if (text === "") return fallback;
  if (!/^-?\d{1,16}$/.test(text)) throw new MetadataXmlError(`metadata.xml: <${tag}> of <${where}> is not a whole number: ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text);
}

function bool(text: string, what: string): boolean {
  const value = text.trim().toLowerCase();
  if (value === "true") return true;
  if (value === "false") return false;
  throw new MetadataXmlError(`metadata.xml: ${what} is neither true nor false: ${JSON.stringify(text.slice(0, 40))}`);
}

function readMeeting(recording: XmlNode): MeetingXml {
  const meeting = firstElement(recording, "meeting");
  const id = meeting === undefined ? undefined : attributeOf(meeting, "id");
  const externalId = meeting === undefined ? undefined : attributeOf(meeting, "externalId");
  if (meeting === undefined || id === undefined || externalId === undefined) throw new MetadataXmlError("metadata.xml: <meeting> with id and externalId is missing");
  return { id, externalId, name: attributeOf(meeting, "name") ?? "unknown", breakout: bool(attributeOf(meeting, "breakout") ?? "false", "<meeting breakout>") };
}

function readPreviewImages(playback: XmlNode): PreviewImageXml[] {
  const images = firstElement(firstElement(firstElement(playback, "extensions") ?? {}, "preview") ?? {}, "images");
  if (images === undefined) return [];
  return elementsOf(images)
    .filter((image) => tagOf(image) === "image")
    .map((image) => {
      const width = attributeOf(image, "width");
      const height = attributeOf(image, "height");
      const alt = attributeOf(image, "alt");
      return { link: textOf(image).trim(), ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }), ...(alt === undefined ? {} : { alt }) };
    });
}

function readPlayback(recording: XmlNode): PlaybackXml {
  const playback = firstElement(recording, "playback");
  if (playback === undefined) throw new MetadataXmlError("metadata.xml has no <playback>");
  return {
    format: requiredText(playback, "format", "playback").trim(),
    link: requiredText(playback, "link", "playback").trim(),
    processingTime: wholeNumber(playback, "processing_time", "playback"),
    duration: wholeNumber(playback, "duration", "playback"),
    size: wholeNumber(playback, "size", "playback"),
    previewImages: readPreviewImages(playback),
  };
}

function readBreakout(recording: XmlNode): BreakoutOf | undefined {
  const breakout = firstElement(recording, "breakout");
  if (breakout === undefined) return undefined;
  const sequence = attributeOf(breakout, "sequence") ?? "0";
  if (!/^\d{1,9}$/.test(sequence)) throw new MetadataXmlError("metadata.xml: <breakout sequence> is not a whole number");
  return { parentMeetingId: attributeOf(breakout, "parentMeetingId") ?? "unknown", sequence: Number(sequence), meetingId: attributeOf(breakout, "meetingId") ?? "unknown" };
}

export function parseMetadataXml(xml: string): RecordingDocument {
  const recording = recordingElement(parseDocument(xml));
  const meta = firstElement(recording, "meta");
  const breakout = readBreakout(recording);
  const rooms = firstElement(recording, "breakoutRooms");
  const id = requiredText(recording, "id", "recording").trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/.test(id)) throw new MetadataXmlError(`metadata.xml: <id> is not a record ID: ${JSON.stringify(id.slice(0, 80))}`);
  return {
    id,
    state: requiredText(recording, "state", "recording").trim(),
    published: bool(firstElement(recording, "published") === undefined ? "true" : requiredText(recording, "published", "recording"), "<published>"),
    startTime: wholeNumber(recording, "start_time", "recording"),
    endTime: wholeNumber(recording, "end_time", "recording"),
    participants: wholeNumber(recording, "participants", "recording"),
    rawSize: wholeNumber(recording, "raw_size", "recording"),
    meeting: readMeeting(recording),
    meta: meta === undefined ? [] : elementsOf(meta).map((entry): [string, string] => [tagOf(entry) ?? "", textOf(entry)]),
    ...(breakout === undefined ? {} : { breakout }),
    breakoutRooms: rooms === undefined ? [] : elementsOf(rooms).filter((room) => tagOf(room) === "breakoutRoom").map((room) => textOf(room).trim()),
    playback: readPlayback(recording),
  };
}

const text = (value: string | number | boolean): XmlNode[] => [{ [textKey]: String(value) }];
const leaf = (tag: string, value: string | number | boolean): XmlNode => ({ [tag]: text(value) });
const withAttributes = (tag: string, children: XmlNode[], attributes: Readonly<Record<string, string>>): XmlNode => ({
  [tag]: children,
  [attributesKey]: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [`@_${name}`, value])),
});

/** Metadata names become element names: bbb-web accepts any `meta_<name>`, XML does not accept every name. */
export function isMetadataName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/.test(name) && !/^xml/i.test(name);
}

function metaElement(meta: ReadonlyArray<readonly [string, string]>): XmlNode {
  for (const [name] of meta) if (!isMetadataName(name)) throw new MetadataXmlError(`metadata name ${JSON.stringify(name)} cannot be an XML element name`);
  return { meta: meta.map(([name, value]) => leaf(name, value)) };
}

function build(nodes: XmlNode[]): string {
  return `${builder.build(nodes) as string}\n`;
}

/** Writes a metadata.xml as BBB's publish step does (element order of `sample-metadata.xml`). */
export function metadataXml(document: RecordingDocument): string {
  const { meeting, playback } = document;
  const images = playback.previewImages.map((image) => {
    const { link, ...attributes } = image;
    return withAttributes("image", text(link), attributes);
  });
  const children: XmlNode[] = [
    leaf("id", document.id),
    leaf("state", document.state),
    leaf("published", document.published),
    leaf("start_time", document.startTime),
    leaf("end_time", document.endTime),
    leaf("participants", document.participants),
    withAttributes("meeting", [], { id: meeting.id, externalId: meeting.externalId, name: meeting.name, breakout: String(meeting.breakout) }),
    metaElement(document.meta),
    ...(document.breakout === undefined
      ? []
      : [withAttributes("breakout", [], { parentMeetingId: document.breakout.parentMeetingId, sequence: String(document.breakout.sequence), meetingId: document.breakout.meetingId })]),
    ...(document.breakoutRooms.length === 0 ? [] : [{ breakoutRooms: document.breakoutRooms.map((room) => leaf("breakoutRoom", room)) }]),
    {
      playback: [
        leaf("format", playback.format),
        leaf("link", playback.link),
        leaf("processing_time", playback.processingTime),
        leaf("duration", playback.duration),
        ...(images.length === 0 ? [] : [{ extensions: [{ preview: [{ images }] }] }]),
        leaf("size", playback.size),
      ],
    },
    leaf("raw_size", document.rawSize),
  ];
  return build([withAttributes("?xml", text(""), { version: "1.0", encoding: "UTF-8" }), { recording: children }]);
}

/** Replaces (or adds, at the end) the recording's direct child `tag`. */
function replaceChild(recording: XmlNode, tag: string, replacement: XmlNode): void {
  const children = childrenOf(recording);
  const at = children.findIndex((child) => tagOf(child) === tag);
  if (at === -1) children.push(replacement);
  else children[at] = replacement;
}

function editRecording(xml: string, edit: (recording: XmlNode) => void): string {
  const nodes = parseDocument(xml);
  edit(recordingElement(nodes));
  return build(nodes);
}

/** What bbb-web writes when it publishes or unpublishes: `<state>` and `<published>`, the rest as it was. */
export function withState(xml: string, published: boolean): string {
  return editRecording(xml, (recording) => {
    replaceChild(recording, "state", leaf("state", published ? "published" : "unpublished"));
    replaceChild(recording, "published", leaf("published", published));
  });
}

/** The document with its `<meta>` replaced by these entries. */
export function withMeta(xml: string, meta: ReadonlyArray<readonly [string, string]>): string {
  return editRecording(xml, (recording) => replaceChild(recording, "meta", metaElement(meta)));
}
