//! A demo storefront on another origin (sandbox and tests only): a shop page that embeds the
//! checkout served by this server with one script tag, as `https://shop.example` would embed
//! `https://pay.example`. It listens on a port of its own (another port is another origin), so
//! the browser treats it as a stranger: the component's files and the checkout API must answer
//! it with CORS, and Klarna's scripts must work from a page that is not theirs.
//!
//! The page is served with exactly the Content-Security-Policy docs/embedding.md tells
//! storefronts to send ([`security::storefront_policy`]), so a purchase through it proves the
//! documented policy suffices. It has no inline script (that policy forbids them): its one
//! helper script records CSP violations and the checkout's events for the tests.
//!
//! `cargo xtask demo` runs it as `klarna-checkout-server storefront`; the end-to-end tests call
//! [`bind`] and [`serve`].

use crate::security;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

const PAGE: &str = include_str!("../../../embed/storefront.html");
const SCRIPT: &str = include_str!("../../../embed/storefront.js");
const STYLE: &str = include_str!("../../../embed/storefront.css");

/// Where the page names the checkout server's origin.
const CHECKOUT_PLACEHOLDER: &str = "{{CHECKOUT}}";

/// A storefront serving in the background.
pub struct Storefront {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

impl Storefront {
    /// Its origin, `http://127.0.0.1:PORT`: what `KC_ALLOWED_ORIGINS` must list.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Binds the storefront's listener first, so that its origin is known before the checkout
/// server's allowlist is configured.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// The shop page, naming the checkout server at `checkout_origin`.
pub fn page(checkout_origin: &str) -> String {
    PAGE.replace(CHECKOUT_PLACEHOLDER, checkout_origin.trim_end_matches('/'))
}

/// The storefront's pages: the shop page at `/`, its script and stylesheet, 404 for anything
/// else. One handler, not routes: this is not our API (whose every route is documented, which
/// `tests/openapi.rs` checks), but another site.
pub fn router(checkout_origin: &str) -> Router {
    let html: Arc<str> = page(checkout_origin).into();
    let policy = HeaderValue::from_str(&security::storefront_policy(checkout_origin))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    Router::new()
        .fallback(move |uri: Uri| {
            let html = html.clone();
            async move {
                match uri.path() {
                    "/" => Html(html.to_string()).into_response(),
                    "/storefront.js" => asset("text/javascript", SCRIPT),
                    "/storefront.css" => asset("text/css", STYLE),
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        })
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            policy,
        ))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Serves the storefront on `listener` until the runtime ends or the task is aborted.
pub fn serve(listener: TcpListener, checkout_origin: &str) -> std::io::Result<Storefront> {
    let addr = listener.local_addr()?;
    let app = router(checkout_origin);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("storefront stopped: {e}");
        }
    });
    Ok(Storefront { addr, task })
}
