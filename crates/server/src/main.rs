//! The server's executable: serves, or runs one of its operator subcommands.

use server::config::Config;

/// `klarna-checkout-server` serves; `klarna-checkout-server hash-password` reads a password on
/// standard input and prints the Argon2 hash for `KC_BOOKKEEPER_PASSWORD_HASH`;
/// `klarna-checkout-server api-key …` creates, lists and revokes the merchant API's keys;
/// `klarna-checkout-server batch <file>` runs a batch file of captures, credits and reversals;
/// `klarna-checkout-server storefront <addr> <checkout origin>` serves the demo storefront on
/// another origin (`cargo xtask demo` runs it beside the server).
#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("storefront") {
        storefront(&args[2..]).await;
        return;
    }
    if args.get(1).map(String::as_str) == Some("api-key") {
        let (mut out, mut note) = (std::io::stdout(), std::io::stderr());
        let env = |k: &str| std::env::var(k).ok();
        if let Err(e) = server::merchant::cli::main(&args[2..], env, &mut out, &mut note).await {
            eprintln!("{e}");
            std::process::exit(e.exit_code());
        }
        return;
    }
    if args.get(1).map(String::as_str) == Some("batch") {
        let env = |k: &str| std::env::var(k).ok();
        let mut note = std::io::stderr();
        match server::merchant::batch_run::main(&args[2..], env, &mut note).await {
            Ok(0) => return,
            // The response file says which records did not end OK.
            Ok(_) => std::process::exit(3),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(e.exit_code());
            }
        }
    }
    if args.get(1).map(String::as_str) == Some("hash-password") {
        let mut password = String::new();
        if std::io::stdin().read_line(&mut password).is_err() || password.trim().is_empty() {
            eprintln!("type the password on standard input");
            std::process::exit(2);
        }
        println!(
            "{}",
            server::auth::hash_password(password.trim_end_matches(['\r', '\n']))
        );
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match Config::from_env(|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            std::process::exit(2);
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = server::serve(config, shutdown).await {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

/// Serves the demo storefront at `addr`, embedding the checkout from `checkout` (an origin),
/// until Ctrl-C.
async fn storefront(args: &[String]) {
    let [addr, checkout] = args else {
        eprintln!(
            "usage: klarna-checkout-server storefront <127.0.0.1:PORT> <http://checkout-origin>"
        );
        std::process::exit(2);
    };
    let Ok(addr) = addr.parse() else {
        eprintln!("storefront: {addr:?} is not an address such as 127.0.0.1:8081");
        std::process::exit(2);
    };
    let served = match server::storefront::bind(addr).await {
        Ok(listener) => server::storefront::serve(listener, checkout),
        Err(e) => Err(e),
    };
    match served {
        Ok(shop) => {
            println!(
                "klarna-checkout: demo storefront (another origin) at {}/",
                shop.url()
            );
            let _ = tokio::signal::ctrl_c().await;
        }
        Err(e) => {
            eprintln!("storefront: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    }
}
