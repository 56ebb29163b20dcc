//! The language of the sentences our API sends to people (bookkeepers read them as they are;
//! the checkout translates by error code in the browser). Chosen per request from
//! `Accept-Language`, which the component sets to its own `locale`, and held in a task-local so
//! an error built deep inside a handler speaks the caller's language without passing it around.

use axum::extract::Request;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::middleware::Next;
use axum::response::Response;

pub use klarna::Lang;

tokio::task_local! {
    static LANG: Lang;
}

/// The supported language an `Accept-Language` header prefers most (RFC 9110 quality values);
/// English when it names none we speak.
pub fn preferred(header: &str) -> Lang {
    let mut best = (Lang::En, 0.0_f32);
    for entry in header.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let Some(lang) = Lang::of_tag(parts.next().unwrap_or_default()) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > best.1 {
            best = (lang, q);
        }
    }
    best.0
}

/// The language of the request being handled; English outside one.
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::En)
}

/// Middleware: runs the rest of the request inside its negotiated language.
pub async fn negotiate(request: Request, next: Next) -> Response {
    let lang = request
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, preferred);
    LANG.scope(lang, next.run(request)).await
}

/// Runs `work` in `lang`, as a request in it would: a sync's task speaks the language of
/// whoever started it.
pub async fn within<F: std::future::Future>(lang: Lang, work: F) -> F::Output {
    LANG.scope(lang, work).await
}

/// The sentence in the current request's language.
pub fn say(en: &str, de: &str) -> String {
    current().pick(en, de).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_preferred_supported_language() {
        assert_eq!(preferred("de-DE"), Lang::De);
        assert_eq!(preferred("de_DE"), Lang::De);
        assert_eq!(preferred("fr-FR, de;q=0.8, en;q=0.5"), Lang::De);
        assert_eq!(preferred("en-GB, de;q=0.9"), Lang::En);
        assert_eq!(preferred("fr, it;q=0.5"), Lang::En);
        assert_eq!(preferred("garbage;;q=x"), Lang::En);
        assert_eq!(preferred(""), Lang::En);
    }

    #[tokio::test]
    async fn sentences_follow_the_scope() {
        assert_eq!(say("Hello", "Hallo"), "Hello");
        let inside = LANG.scope(Lang::De, async { say("Hello", "Hallo") }).await;
        assert_eq!(inside, "Hallo");
    }
}
