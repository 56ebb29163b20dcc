//! Which language a component speaks and which locale it sends and formats with: the element's
//! `locale` attribute, else the page's `lang`, else the browser's languages
//! (`navigator.languages`, in the shopper's order), else English. The first of them that names
//! a language we have decides the language; the first that names a country decides the
//! country. The locale sent to the server is the two together (`sv-SE`, `en-DE`, `en-US`); the
//! server still picks Klarna's own locale for the purchase country from Klarna's list.

use super::Lang;

/// The language and the `language-COUNTRY` locale of `candidates`, best first.
pub fn resolve<'a>(
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    default_country: &str,
) -> (Lang, String) {
    let lang = candidates
        .clone()
        .into_iter()
        .find_map(Lang::of_tag)
        .unwrap_or(Lang::En);
    let country = candidates
        .into_iter()
        .find_map(country_of)
        .unwrap_or_else(|| default_country.to_ascii_uppercase());
    (lang, format!("{}-{country}", lang.code()))
}

/// The region subtag of a BCP 47 tag (`de-AT` → `AT`, `sr-Latn-RS` → `RS`).
fn country_of(tag: &str) -> Option<String> {
    tag.trim()
        .split(['-', '_'])
        .skip(1)
        .find(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(str::to_ascii_uppercase)
}

/// [`resolve`] for an element on this page: its `locale` attribute, the page's `lang`, then
/// `navigator.languages`.
pub fn page_locale(attribute: Option<String>, default_country: &str) -> (Lang, String) {
    let window = web_sys::window();
    let page = window
        .as_ref()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("lang"));
    let browser: Vec<String> = window
        .and_then(|w| js_sys::Reflect::get(&w, &"navigator".into()).ok())
        .and_then(|n| js_sys::Reflect::get(&n, &"languages".into()).ok())
        .filter(js_sys::Array::is_array)
        .map(|l| {
            js_sys::Array::from(&l)
                .iter()
                .filter_map(|v| v.as_string())
                .collect()
        })
        .unwrap_or_default();
    let all: Vec<String> = attribute.into_iter().chain(page).chain(browser).collect();
    resolve(all.iter().map(String::as_str), default_country)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_then_page_then_browser_then_english() {
        let r = |c: &[&str]| resolve(c.iter().copied(), "GB");
        assert_eq!(r(&["de-DE", "sv-SE", "fr-FR"]), (Lang::De, "de-DE".into()));
        assert_eq!(r(&["en-DE", "de-DE"]), (Lang::En, "en-DE".into()));
        assert_eq!(r(&["en-US"]), (Lang::En, "en-US".into()));
        // No attribute: the page's lang; no country there: the next source's.
        assert_eq!(r(&["sv", "de-AT"]), (Lang::Sv, "sv-AT".into()));
        // A language we lack gives way to the next source, its country still counts.
        assert_eq!(r(&["ja-JP", "fi"]), (Lang::Fi, "fi-JP".into()));
        assert_eq!(r(&["pl_PL"]), (Lang::Pl, "pl-PL".into()));
        assert_eq!(r(&["zh-Hant-TW", "ja"]), (Lang::En, "en-TW".into()));
        assert_eq!(r(&[]), (Lang::En, "en-GB".into()));
        assert_eq!(r(&["", "  "]), (Lang::En, "en-GB".into()));
    }
}
