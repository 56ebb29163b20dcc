//! Another origin may embed the checkout: a shop at `https://shop.example` loads the component
//! from this server at `https://pay.example`. The browser then asks this server (CORS) whether
//! that shop may read its answers: the module script, the WebAssembly and the checkout API. The
//! answer is yes for the origins in `KC_ALLOWED_ORIGINS` and no for every other.
//!
//! - Same-origin requests (the `Origin` is this server's public URL, or names the host the
//!   request was sent to) and requests without an `Origin` (servers, curl) pass as before.
//! - The checkout API (`/api/checkout/…`) answers an allowed origin with
//!   `Access-Control-Allow-Origin` (and its preflight), and refuses any other origin with `403`
//!   naming `Origin`, before anything is done.
//! - The component's files answer an allowed origin with `Access-Control-Allow-Origin`; to any
//!   other origin they are served without it, so the browser will not run them there.
//! - The bookkeeper's and the merchant's endpoints stay same-origin: the bank page signs in with
//!   a cookie and a CSRF token, which a cross-origin page must not be able to use, and the
//!   merchant API is for servers, which send no `Origin`.

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use klarna::api::ErrorCode;
use klarna::{FieldError, FieldProblem};

/// The origins that may embed the checkout (`KC_ALLOWED_ORIGINS`), exact
/// `scheme://host[:port]` each; none by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// A comma-separated list of origins. `https://` only, except for a loopback host (a
    /// storefront on this machine) when `allow_http_loopback`.
    pub fn parse(list: &str, allow_http_loopback: bool) -> Result<AllowedOrigins, String> {
        let mut origins = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let origin = item.to_ascii_lowercase();
            let (scheme, authority) = origin
                .split_once("://")
                .ok_or_else(|| format!("KC_ALLOWED_ORIGINS: {item:?} is not scheme://host"))?;
            let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
            let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
            let scheme_ok =
                scheme == "https" || (scheme == "http" && loopback && allow_http_loopback);
            let authority_ok = !authority.is_empty()
                && authority
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
            if !scheme_ok || !authority_ok {
                return Err(format!(
                    "KC_ALLOWED_ORIGINS: {item:?} must be an origin, https://host[:port] (no path, no wildcard)"
                ));
            }
            origins.push(origin);
        }
        Ok(AllowedOrigins(origins))
    }

    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.0.contains(&origin)
    }
}

/// Whether `origin` is this server itself: its public URL, or the host the request was sent to.
fn same_origin(app: &AppState, request: &Request, origin: &str) -> bool {
    let origin = origin.to_ascii_lowercase();
    let public = app
        .config
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_ascii_lowercase());
    if public.as_deref() == Some(origin.as_str()) {
        return true;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| host.as_deref() == Some(authority))
}

fn refused() -> Response {
    let mut e = AppError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::BadRequest,
        "Origin: this shop's checkout may not be embedded on that site (KC_ALLOWED_ORIGINS).",
    );
    e.body.fields = vec![FieldError::new("Origin", FieldProblem::Invalid)];
    e.into_response()
}

/// The CORS rules above, for every request.
pub async fn enforce(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let checkout = path.starts_with("/api/checkout/");
    let component = !path.starts_with("/api/")
        && !path.starts_with("/hooks/")
        && !path.starts_with(sandbox::MOUNT_PATH);
    let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string)
    else {
        return varies(component, next.run(request).await);
    };
    if same_origin(&app, &request, &origin) {
        return varies(component, next.run(request).await);
    }
    if !checkout && !component {
        return next.run(request).await;
    }
    let allowed = app.config.allowed_origins.allows(&origin);
    if checkout && !allowed {
        return refused();
    }
    if checkout && request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let h = response.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PATCH"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, accept-language"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        allow(h, &origin);
        return response;
    }
    let mut response = next.run(request).await;
    if allowed {
        allow(response.headers_mut(), &origin);
    }
    varies(component, response)
}

/// A component file's answer depends on the `Origin` (an allowed one gets
/// `Access-Control-Allow-Origin`), so every answer says so, also the one to the server's own
/// page. Without it the browser's cache reused the same-origin answer, which has no such header,
/// for a storefront's module import, and the checkout never started there after the shopper had
/// once visited the server's own page (seen in the end-to-end test of the storefront).
fn varies(component: bool, mut response: Response) -> Response {
    let headers = response.headers_mut();
    let said = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("origin"))
    });
    if component && !said {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

fn allow(headers: &mut axum::http::HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::AllowedOrigins;

    #[test]
    fn origins_are_exact_https_origins() {
        let o = AllowedOrigins::parse(" https://shop.example, https://Shop.Example:8443 ", false)
            .unwrap();
        assert!(o.allows("https://shop.example"));
        assert!(o.allows("https://shop.example:8443"));
        assert!(!o.allows("https://evil.example"));
        assert!(!o.allows("http://shop.example"));
        for bad in [
            "shop.example",
            "https://shop.example/path",
            "https://*.example",
            "http://shop.example",
            "https://",
        ] {
            assert!(AllowedOrigins::parse(bad, false).is_err(), "{bad}");
        }
        assert!(AllowedOrigins::parse("http://localhost:9000", false).is_err());
        assert!(AllowedOrigins::parse("http://localhost:9000", true).is_ok());
        assert_eq!(
            AllowedOrigins::parse("", false).unwrap(),
            AllowedOrigins::default()
        );
    }
}
