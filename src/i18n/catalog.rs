//! Catalogs: one small plain-text file per language and flow (`i18n/checkout/sv.txt`,
//! `i18n/bank/sv.txt`), copied into the build by Trunk and fetched when a component mounts,
//! so a shopper downloads the texts of their language only. A line is `key = value`; blank
//! lines and lines starting with `#` are skipped; nothing is escaped. Parsed by hand: no
//! JSON, so serde_json stays out of the bundle. A loaded catalog is leaked once, so lookups
//! hand out `&'static str` and call sites stay `t(lang, Text::X)`.

use super::Lang;
use crate::api::Endpoint;
use leptos::prelude::*;
use std::cell::RefCell;

/// Whose texts: the shopper's checkout, or the bookkeeper's bank page (its own bundle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Checkout,
    Bank,
}

impl Flow {
    /// Where the built catalog is served, relative to the server (`dist/i18n`,
    /// `dist/bank/i18n`; see index.html and bank-link.html).
    pub fn path(self, lang: Lang) -> String {
        match self {
            Flow::Checkout => format!("/i18n/{}.txt", lang.code()),
            Flow::Bank => format!("/bank/i18n/{}.txt", lang.code()),
        }
    }
}

/// Why a catalog could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogError {
    /// No answer, or not a 2xx answer.
    Fetch,
    /// Line `n` (from 1) is neither blank, a comment nor `key = value` (an HTML page served
    /// instead of a missing file fails here).
    Line(usize),
}

/// How far a language's catalog is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    Loading,
    Failed,
    Ready,
}

enum State {
    Loading,
    Failed,
    Ready(Vec<(&'static str, &'static str)>),
}

struct Store {
    entries: Vec<(Flow, Lang, State)>,
    /// One per catalog, so a view waits for its own language only.
    changed: Vec<(Flow, Lang, ArcTrigger)>,
}

impl Store {
    fn trigger(&mut self, flow: Flow, lang: Lang) -> ArcTrigger {
        if let Some((.., t)) = self
            .changed
            .iter()
            .find(|(f, l, _)| (*f, *l) == (flow, lang))
        {
            return t.clone();
        }
        let t = ArcTrigger::new();
        self.changed.push((flow, lang, t.clone()));
        t
    }
}

thread_local! {
    static STORE: RefCell<Store> = const { RefCell::new(Store { entries: Vec::new(), changed: Vec::new() }) };
}

/// The entries of a catalog, in the file's order. Not sorted (a sort would cost the bundle
/// more than a linear lookup over a hundred keys costs time); duplicate keys are refused by the
/// completeness test.
pub fn parse(text: &str) -> Result<Vec<(&str, &str)>, CatalogError> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or(CatalogError::Line(i + 1))?;
        let key = key.trim();
        let well_formed = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !well_formed {
            return Err(CatalogError::Line(i + 1));
        }
        entries.push((key, value.trim()));
    }
    Ok(entries)
}

fn set(flow: Flow, lang: Lang, state: State) {
    let changed = STORE.with_borrow_mut(|s| {
        s.entries.retain(|(f, l, _)| (*f, *l) != (flow, lang));
        s.entries.push((flow, lang, state));
        s.trigger(flow, lang)
    });
    changed.notify();
}

/// Installs a catalog at once: for tests (`include_str!`) and after a fetch.
/// A catalog already there is kept (and its views are not rendered again).
pub fn install(flow: Flow, lang: Lang, text: &'static str) -> Result<(), CatalogError> {
    let entries = parse(text)?;
    let there = STORE.with_borrow(|s| {
        s.entries
            .iter()
            .any(|(f, l, st)| (*f, *l) == (flow, lang) && matches!(st, State::Ready(_)))
    });
    if there {
        return Ok(());
    }
    set(flow, lang, State::Ready(entries));
    Ok(())
}

/// The state of a language's catalog; reactive, so a view waiting for it re-renders (when
/// that catalog changes, not another).
pub fn state(flow: Flow, lang: Lang) -> Load {
    STORE.with_borrow_mut(|s| {
        s.trigger(flow, lang).track();
        match s.entries.iter().find(|(f, l, _)| (*f, *l) == (flow, lang)) {
            Some((.., State::Ready(_))) => Load::Ready,
            Some((.., State::Failed)) => Load::Failed,
            Some((.., State::Loading)) | None => Load::Loading,
        }
    })
}

/// The text of `key`; empty (never the key itself) while the catalog is not there. The
/// completeness test guarantees every key the code asks for in every language.
pub fn lookup(flow: Flow, lang: Lang, key: &str) -> &'static str {
    STORE.with_borrow(|s| {
        s.entries
            .iter()
            .find_map(|(f, l, st)| match st {
                State::Ready(e) if (*f, *l) == (flow, lang) => Some(e),
                _ => None,
            })
            .and_then(|e| e.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
            .unwrap_or("")
    })
}

/// Fetches a language's catalog from `endpoint` unless it is there or on its way (a failed
/// one is fetched again).
pub fn load(flow: Flow, lang: Lang, endpoint: &Endpoint) {
    let busy = STORE.with_borrow(|s| {
        s.entries.iter().any(|(f, l, st)| {
            (*f, *l) == (flow, lang) && matches!(st, State::Loading | State::Ready(_))
        })
    });
    if busy {
        return;
    }
    set(flow, lang, State::Loading);
    let url = endpoint.url(&flow.path(lang));
    leptos::task::spawn_local(async move {
        let installed = match fetch_text(&url).await {
            // Leaked once per language and page: lookups return `&'static str`.
            Ok(text) => install(flow, lang, Box::leak(text.into_boxed_str())),
            Err(e) => Err(e),
        };
        if installed.is_err() {
            set(flow, lang, State::Failed);
        }
    });
}

async fn fetch_text(url: &str) -> Result<String, CatalogError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or(CatalogError::Fetch)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| CatalogError::Fetch)?
        .unchecked_into();
    if !response.ok() {
        return Err(CatalogError::Fetch);
    }
    let text = response.text().map_err(|_| CatalogError::Fetch)?;
    JsFuture::from(text)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or(CatalogError::Fetch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_key_equals_value() {
        let text = "# comment\n\nb.x = Zwei = zwei\na =  Eins \r\nc.one = {n} Tag\n";
        assert_eq!(
            parse(text),
            Ok(vec![
                ("b.x", "Zwei = zwei"),
                ("a", "Eins"),
                ("c.one", "{n} Tag")
            ])
        );
        assert_eq!(parse("<!DOCTYPE html>"), Err(CatalogError::Line(1)));
        assert_eq!(parse("\n<html lang=\"en\">"), Err(CatalogError::Line(2)));
    }
}
