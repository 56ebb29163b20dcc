//! `klarna-sandbox [--port N]`: the Klarna emulator as its own process, so that killing our
//! server does not kill "Klarna" (the reliability bench kills the server at random moments).
//! Serves everything under `/sandbox` on 127.0.0.1 and prints its URL as the first line of
//! standard output; point the server at it with `KLARNA_API_URL=<url>/sandbox` (and
//! `KLARNA_XS2A_URL` likewise). Stops on SIGTERM or Ctrl-C.

use sandbox::{Sandbox, SandboxCredentials, MOUNT_PATH};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use thiserror::Error;

#[derive(Debug, Error)]
enum SandboxError {
    #[error("usage: klarna-sandbox [--port N]  (N = 0 or absent: any free port)")]
    Usage,
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("serving failed: {0}")]
    Serve(std::io::Error),
}

fn port_from(args: &[String]) -> Result<u16, SandboxError> {
    match args {
        [] => Ok(0),
        [flag, value] if flag == "--port" => value.parse().map_err(|_| SandboxError::Usage),
        _ => Err(SandboxError::Usage),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn serve(port: u16) -> Result<(), SandboxError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| SandboxError::Listen(addr, e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| SandboxError::Listen(addr, e))?;
    let app = axum::Router::new().nest(
        MOUNT_PATH,
        sandbox::router(Sandbox::new(SandboxCredentials::default())),
    );
    // The first line is the contract with whoever started us: it carries the port.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "klarna-sandbox listening on http://{bound}");
    let _ = out.flush();
    drop(out);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(SandboxError::Serve)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match port_from(&args) {
        Ok(port) => serve(port).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("klarna-sandbox: {e}");
            ExitCode::from(2)
        }
    }
}
