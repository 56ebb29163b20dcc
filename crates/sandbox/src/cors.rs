//! CORS for what Klarna's browser scripts call, so that they work on a storefront of another
//! origin as Klarna's do. Real Klarna serves any merchant's site: `api.js` and the XS2A app
//! launcher are loaded from Klarna's CDN by pages on every origin, and what they talk to lives in
//! Klarna's own iframes. Our stand-ins draw in the page instead, so their calls are the page's
//! calls to the sandbox, which the browser lets through only with `Access-Control-Allow-Origin`.
//!
//! The rule: **any origin, without credentials** (`Access-Control-Allow-Origin: *`, never
//! `Allow-Credentials`), for the browser-facing endpoints only: the two scripts, the badge, the
//! widget/authorize/finalize endpoints behind `api.js`, and the XS2A App's dialog. Why not the
//! server's `KC_ALLOWED_ORIGINS`: that list is the merchant's rule about who may use *its*
//! checkout API, and the server already enforces it before any client token is handed out;
//! Klarna does not know it, and the sandbox also runs as a process of its own that never sees
//! it. Why `*` is no laxer than Klarna: these endpoints are authorized by the client token in
//! the request (which only a page the merchant's server gave it to holds), never by a cookie,
//! and `*` makes the browser send no cookies at all. Everything else, the REST APIs with the
//! merchant's credentials and the test-only `/_control/` endpoints, gets no CORS: Klarna's REST
//! APIs are for servers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Paths (below the sandbox's mount) that Klarna's browser scripts load or call.
fn browser_facing(path: &str) -> bool {
    // Nested routers see their own paths; the prefix is cut here too in case it is not.
    let path = path.strip_prefix(crate::MOUNT_PATH).unwrap_or(path);
    matches!(
        path,
        "/kp/lib/v1/api.js"
            | "/kp/widget"
            | "/kp/authorize"
            | "/kp/finalize"
            | "/badges/klarna.svg"
            | "/xs2a/app-launcher/v0/xs2a-app-launcher.js"
    ) || path.starts_with("/xs2a/app/")
}

/// Answers the preflight of, and adds `Access-Control-Allow-Origin: *` to, the browser-facing
/// endpoints when a page of another origin asks; leaves every other request alone.
pub(crate) async fn browser_scripts(request: Request, next: Next) -> Response {
    let cross_origin = request.headers().contains_key(header::ORIGIN);
    if !cross_origin || !browser_facing(request.uri().path()) {
        return next.run(request).await;
    }
    if request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let h = response.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        return response;
    }
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::browser_facing;

    #[test]
    fn only_what_the_browser_scripts_use_is_open_to_other_origins() {
        for open in [
            "/kp/lib/v1/api.js",
            "/kp/widget",
            "/kp/authorize",
            "/kp/finalize",
            "/badges/klarna.svg",
            "/xs2a/app-launcher/v0/xs2a-app-launcher.js",
            "/xs2a/app/eyJ.token/login",
        ] {
            assert!(browser_facing(open), "{open}");
        }
        for closed in [
            "/payments/v1/sessions",
            "/payments/v1/authorizations/t/order",
            "/ordermanagement/v1/orders/o",
            "/xs2a/v1/sessions",
            "/xs2a/v1/consents/c/accounts/get",
            "/_control/orders",
            "/kp/widgets",
        ] {
            assert!(!browser_facing(closed), "{closed}");
        }
    }
}
