//! A faithful local stand-in for Klarna: the Payments REST API (same paths, shapes, status codes,
//! validation and error bodies), the `api.js` browser script, Klarna's playground test customers,
//! token lifetimes on an injectable clock, and fault knobs for tests. Nothing here is reachable
//! in playground or live mode.

mod browser;
mod clock;
mod control;
mod cors;
mod customer_tokens;
mod faults;
mod idempotency;
mod order_checks;
mod order_management;
mod payments;
mod state;
pub mod xs2a;

pub use clock::Clock;
pub use faults::Faults;
pub use state::{RecordedRequest, Sandbox, SandboxCredentials};

use axum::Router;

/// Where the server nests the sandbox; the sandbox's own absolute URLs start with it.
pub const MOUNT_PATH: &str = "/sandbox";

/// Where the `api.js` stand-in is served, relative to the server's origin.
pub const PAYMENTS_SDK_PATH: &str = "/sandbox/kp/lib/v1/api.js";

/// Runs [`Sandbox::tick`] every `every` for as long as the runtime lives.
pub fn spawn_ticker(sandbox: Sandbox, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            sandbox.tick().await;
            tokio::time::sleep(every).await;
        }
    })
}

/// Everything the sandbox serves, to be nested under a prefix (the server uses `/sandbox`).
pub fn router(sandbox: Sandbox) -> Router {
    Router::new()
        .merge(
            payments::routes()
                .merge(order_management::routes())
                .merge(customer_tokens::routes())
                .layer(axum::middleware::from_fn_with_state(
                    sandbox.clone(),
                    idempotency::replay,
                )),
        )
        .merge(browser::routes())
        .merge(control::routes())
        .merge(xs2a::routes())
        .layer(axum::middleware::from_fn_with_state(
            sandbox.clone(),
            faults::apply,
        ))
        // Outermost: a preflight is answered before any injected fault.
        .layer(axum::middleware::from_fn(cors::browser_scripts))
        .with_state(sandbox)
}
