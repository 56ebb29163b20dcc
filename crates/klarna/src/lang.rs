//! The languages people read us in. One enum for the browser, the server and the sandbox, so
//! a locale, an `Accept-Language` entry and an XS2A session `language` are read the same way.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// The language of a BCP 47 tag or ISO 639-1 code (`de`, `de-AT`, `de_DE`), if we speak
    /// it.
    pub fn of_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("de") {
            Some(Lang::De)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// As [`Lang::of_tag`], English for a language we do not speak.
    pub fn of(tag: &str) -> Lang {
        Lang::of_tag(tag).unwrap_or(Lang::En)
    }

    /// ISO 639-1 code, as XS2A's session `language` wants it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The sentence written for this language.
    pub fn pick<'a>(self, en: &'a str, de: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::De => de,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn tags_name_their_language_by_the_primary_subtag() {
        for tag in ["de", "de-DE", "de_AT", " DE-ch ", "de-DE-1996"] {
            assert_eq!(Lang::of_tag(tag), Some(Lang::De), "{tag}");
        }
        assert_eq!(Lang::of_tag("en-GB"), Some(Lang::En));
        assert_eq!(Lang::of_tag("fr-FR"), None);
        assert_eq!(Lang::of("fr-FR"), Lang::En);
        assert_eq!(Lang::of(""), Lang::En);
        assert_eq!(Lang::De.pick("Hello", "Hallo"), "Hallo");
        assert_eq!(Lang::De.code(), "de");
    }
}
