//! The HTTP API's OpenAPI 3.1 document, generated from the code so it cannot drift from it:
//! every route under `/api` and `/hooks` is registered through `utoipa_axum::routes!`, which
//! takes the method and path from the handler's `#[utoipa::path]` attribute, so registering a
//! route and documenting it are the same line; bodies and errors are the wire types' own
//! `ToSchema` derives (`klarna`'s behind its `openapi` feature, which the browser never
//! enables). Served at `GET /api/openapi.json`; schemathesis fuzzes the server against it
//! (`cargo xtask test`, docs/testing.md).

use crate::state::AppState;
use crate::{auth, bank_csv, bank_links, bank_pending, bank_sync, checkout, hooks, merchant};
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "klarna-checkout",
        description = "The server of the Klarna checkout component: the shopper's checkout, the \
bookkeeper's bank links, Klarna's callbacks and the merchant API. Every refusal is a JSON \
error body (`code`, `message`, and `fields` naming the inputs it is about)."
    ),
    components(schemas(klarna::api::ApiError, merchant::errors::MerchantError)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "checkout", description = "The shopper's checkout: public, rate-limited."),
        (name = "bank links", description = "The bookkeeper's bank linking: a session cookie from sign-in, and `X-CSRF-Token` on every state-changing call."),
        (name = "hooks", description = "Klarna's callbacks, authenticated by the secret in their path."),
        (name = "merchant", description = "The merchant API: a bearer API key; `Idempotency-Key` on every POST and PATCH that moves money or changes an order (all but registering a cart and cancelling a customer token, which a retry cannot do twice)."),
        (name = "server", description = "Health and this document."),
    )
)]
struct ApiDoc;

/// The credentials the routes name in their `security`.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "merchant_api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("kc_sk_…")
                    .description(Some(
                        "An API key from `klarna-checkout-server api-key create <name>`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bookkeeper_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                auth::COOKIE,
                "Set by `POST /api/auth/sign-in`.",
            ))),
        );
        components.add_security_scheme(
            "csrf_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The `csrf_token` of the sign-in's answer, on every state-changing banking call.",
            ))),
        );
    }
}

/// Every documented route, with its document. The server serves exactly these (plus the
/// sandbox and the built component); `crate::app` adds the fallbacks and the layers.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(checkout::routes())
        .merge(hooks::routes())
        .merge(auth::routes())
        .merge(bank_links::routes())
        .merge(bank_sync::routes())
        .merge(bank_csv::routes())
        .merge(bank_pending::routes())
        .merge(merchant::routes())
        .routes(routes!(health))
        .routes(routes!(openapi_json))
}

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, api) = router().split_for_parts();
        // Serializing our own document cannot fail; an empty string would fail every test.
        api.to_json().unwrap_or_default()
    })
}

/// The server is up.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "server",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")),
)]
async fn health() -> &'static str {
    "ok"
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "server",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object)),
)]
async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}
