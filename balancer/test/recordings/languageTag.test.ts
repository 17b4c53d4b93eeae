import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { trackLanguage } from "../../src/recordings/languageTag.js";

/**
 * putRecordingTextTrack's `lang` as bbb-web 3.0 reads it (`RecordingController.putRecordingTextTrack`): commons-lang
 * 2.6's `LocaleUtils.toLocale` (`org/apache/commons/lang/LocaleUtils.java`: `ll`, `ll_CC`, `ll__variant`,
 * `ll_CC_variant`), then `Locale.toLanguageTag()` (`java/util/Locale.java`, `sun/util/locale/LanguageTag.java`:
 * ill-formed variants become `x-lvariant-` private use, as far as they are well-formed private use subtags).
 */
describe("a text track's language", () => {
  it.each([
    ["en", "en", "English"],
    ["pt_BR", "pt-BR", "Portuguese"],
    ["de_CH_1996", "de-CH-1996", "German"],
    ["en_US_POSIX", "en-US-POSIX", "English"],
    ["en__POSIX", "en-POSIX", "English"],
    ["en_US_WIN", "en-US-x-lvariant-WIN", "English"],
    ["sl_SI_rozaj", "sl-SI-rozaj", "Slovenian"],
    ["en_US_WIN_a.b_c", "en-US-x-lvariant-WIN", "English"],
    ["qq", "qq", "qq"],
  ])("reads %s as %s, named %s", (lang, tag, displayName) => {
    expect(trackLanguage(lang)).toEqual({ tag, displayName });
  });

  it.each(["en-US", "EN", "e", "eng", "en_us", "en_U", "en_USA", "en__ab", "../etc", "", "en_US-x"])("refuses %j as bbb-web's invalidLang", (lang) => {
    expect(trackLanguage(lang)).toBeUndefined();
  });

  it("names every track it accepts with letters, digits and hyphens only", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[a-z]{2}(_[A-Z]{2})?_.{0,20}$/)), (lang) => {
        const language = trackLanguage(lang);
        if (language !== undefined) expect(language.tag).toMatch(/^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/);
      }),
    );
  });
});
