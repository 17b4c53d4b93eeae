/**
 * putRecordingTextTrack's `lang`, read as bbb-web reads it (`RecordingController.putRecordingTextTrack`): commons-lang
 * 2's `LocaleUtils.toLocale` (`ll`, `ll_CC`, `ll__variant`, `ll_CC_variant`: a lower-case language, an upper-case
 * country, underscores; anything else, `en-US` included, is refused), then the track is named by
 * `Locale.toLanguageTag()` and labelled, when the client gives no label, by `Locale.getDisplayLanguage()`.
 */

export interface TrackLanguage {
  /** The BCP 47 tag the track is stored and listed under: letters, digits and hyphens only. */
  readonly tag: string;
  /** The language's English name, bbb-web's default label. */
  readonly displayName: string;
}

const isLower = (c: string | undefined): boolean => c !== undefined && c >= "a" && c <= "z";
const isUpper = (c: string | undefined): boolean => c !== undefined && c >= "A" && c <= "Z";

/** `LocaleUtils.toLocale` of commons-lang 2.6: language, country, variant; `undefined` where it throws. */
function javaLocale(value: string): { language: string; country: string; variant: string } | undefined {
  const length = value.length;
  if (length !== 2 && length !== 5 && length < 7) return undefined;
  if (!isLower(value[0]) || !isLower(value[1])) return undefined;
  const language = value.slice(0, 2);
  if (length === 2) return { language, country: "", variant: "" };
  if (value[2] !== "_") return undefined;
  if (value[3] === "_") return { language, country: "", variant: value.slice(4) };
  if (!isUpper(value[3]) || !isUpper(value[4])) return undefined;
  const country = value.slice(3, 5);
  if (length === 5) return { language, country, variant: "" };
  if (value[5] !== "_") return undefined;
  return { language, country, variant: value.slice(6) };
}

const alphanumeric = /^[A-Za-z0-9]+$/;
/** BCP 47 variant subtags (`LanguageTag.isVariant`): 5 to 8 alphanumerics, or a digit and 3 alphanumerics. */
const isVariantSubtag = (s: string): boolean => alphanumeric.test(s) && ((s.length >= 5 && s.length <= 8) || (s.length === 4 && /^[0-9]/.test(s)));
const isPrivateUseSubtag = (s: string): boolean => alphanumeric.test(s) && s.length <= 8;

/**
 * `Locale.toLanguageTag()`: a well-formed variant stays a variant; the rest becomes private use (`x-lvariant-...`)
 * as far as its subtags are well-formed, and what follows an ill-formed one is dropped.
 */
function languageTag(language: string, country: string, variant: string): string {
  const parts = [language, ...(country === "" ? [] : [country])];
  const subtags = variant === "" ? [] : variant.split("_");
  let next = 0;
  while (next < subtags.length && isVariantSubtag(subtags[next] ?? "")) parts.push(subtags[next++] ?? "");
  const privateUse: string[] = [];
  while (next < subtags.length && isPrivateUseSubtag(subtags[next] ?? "")) privateUse.push(subtags[next++] ?? "");
  if (privateUse.length > 0) parts.push("x", "lvariant", ...privateUse);
  return parts.join("-");
}

const displayNames = new Intl.DisplayNames(["en"], { type: "language", fallback: "code" });

/** The track language bbb-web makes of `lang` (already stripped of surrounding blanks), `undefined` for `invalidLang`. */
export function trackLanguage(lang: string): TrackLanguage | undefined {
  const locale = javaLocale(lang);
  if (locale === undefined) return undefined;
  return { tag: languageTag(locale.language, locale.country, locale.variant), displayName: displayNames.of(locale.language) ?? locale.language };
}
