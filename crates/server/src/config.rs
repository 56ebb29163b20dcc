//! Server configuration, from environment variables only, so that credentials never sit in a
//! file of the repository.

use crate::client_addr::{CidrError, TrustedProxies};
use klarna::country::Region;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use thiserror::Error;

/// Where Klarna calls go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The embedded emulator; no credentials, no internet.
    Sandbox,
    Playground,
    Live,
}

/// A value that must never be printed: `Debug` and `Display` show a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub region: Region,
    pub listen: SocketAddr,
    /// SQLite file; created on first start.
    pub database: PathBuf,
    /// The built component (`trunk build` output), served at `/`.
    pub dist: PathBuf,
    pub username: String,
    pub password: Secret,
    /// US sales tax rate in basis points for the demo catalog.
    pub us_sales_tax_rate: i64,
    /// Overrides Klarna's base URL (`KLARNA_API_URL`), e.g. a sandbox running elsewhere.
    pub klarna_api_url: Option<String>,
    /// This server as Klarna reaches it (`KC_PUBLIC_URL`, HTTPS outside the sandbox); without it
    /// Klarna's authorization callback is not requested.
    pub public_url: Option<String>,
    /// The secret path segment of the callback URL (`KC_HOOK_SECRET`); random when not set.
    pub hook_secret: Secret,
    /// How long a callback waits before creating the order itself (`KC_CALLBACK_DELAY_SECS`),
    /// so that the browser, which has the addresses, normally wins.
    pub callback_delay_secs: u64,
    /// The bookkeeper who may link banks (`KC_BOOKKEEPER_USER`).
    pub bookkeeper_user: String,
    /// Argon2 PHC string of the bookkeeper's password (`KC_BOOKKEEPER_PASSWORD_HASH`); empty in
    /// the sandbox, which accepts [`SANDBOX_BOOKKEEPER_PASSWORD`].
    pub bookkeeper_password_hash: Secret,
    /// AES-256-GCM key for consent tokens at rest (`KC_CONSENT_KEY`, 32 bytes in base64).
    pub consent_key: Secret,
    /// Klarna Open Banking API token (`KLARNA_XS2A_TOKEN`).
    pub xs2a_token: Secret,
    /// Overrides the Open Banking base URL (`KLARNA_XS2A_URL`).
    pub xs2a_api_url: Option<String>,
    /// A bank link not completed within this time is closed (`KC_LINK_TIMEOUT_SECS`).
    pub link_timeout_secs: u64,
    /// How often the order worker looks for due callbacks and unfinished attempts
    /// (`KC_WORKER_INTERVAL_MS`); a waiting shopper wakes it at once.
    pub worker_interval_ms: u64,
    /// Tests only (sandbox mode): the Unix time the server's clock starts at, set before its
    /// first worker round, so a second instance never works a round on today's real date.
    pub start_clock_at: Option<i64>,
    /// Proxies whose `X-Forwarded-For` names the client (`KC_TRUSTED_PROXIES`); none by default.
    pub trusted_proxies: TrustedProxies,
    /// Other sites that may embed the checkout (`KC_ALLOWED_ORIGINS`); none by default.
    pub allowed_origins: crate::cors::AllowedOrigins,
    /// Checkout sessions a client may start per minute (`KC_RATE_SESSIONS_PER_MIN`).
    pub rate_sessions_per_min: u32,
    /// Orders a client may try to place per minute (`KC_RATE_ORDERS_PER_MIN`).
    pub rate_orders_per_min: u32,
    /// When every linked account is synced unattended (`KC_SYNC_SCHEDULE`: `off`, `daily`
    /// = 03:00 UTC, or `HH:MM` UTC); `daily` unless set. [`Config::sandbox`] (the tests')
    /// leaves it off, so no test is surprised by a sync it did not start.
    pub sync_schedule: crate::bank_schedule::SyncSchedule,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("KC_MODE must be sandbox, playground or live, not {0:?}")]
    Mode(String),
    #[error("KC_REGION must be eu, na or oc, not {0:?}")]
    Region(String),
    #[error("{0} is not a valid port or address")]
    Listen(String),
    #[error("{0} must be set in {1} mode")]
    Missing(&'static str, &'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} must be a whole number of requests per minute, at least 1, not {1:?}")]
    RatePerMinute(&'static str, String),
    #[error("KC_TRUSTED_PROXIES: {0}")]
    TrustedProxies(#[from] CidrError),
}

/// The sandbox's bookkeeper and password (the demo prints them; never valid outside the sandbox).
pub const SANDBOX_BOOKKEEPER: &str = "bookkeeper";
pub const SANDBOX_BOOKKEEPER_PASSWORD: &str = "sandbox-password";

impl Config {
    /// Sandbox defaults: a demo that runs on a fresh machine.
    pub fn sandbox(dist: PathBuf, database: PathBuf) -> Config {
        let creds = sandbox::SandboxCredentials::default();
        Config {
            mode: Mode::Sandbox,
            region: Region::Eu,
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            database,
            dist,
            username: creds.username,
            password: Secret::new(creds.password),
            us_sales_tax_rate: 825,
            klarna_api_url: None,
            public_url: None,
            hook_secret: Secret::new(uuid::Uuid::new_v4().simple().to_string()),
            callback_delay_secs: 120,
            bookkeeper_user: SANDBOX_BOOKKEEPER.into(),
            bookkeeper_password_hash: Secret::new(String::new()),
            // Sandbox only: a fixed key so a restarted demo still reads its consents.
            consent_key: Secret::new("c2FuZGJveC1vbmx5LWNvbnNlbnQta2V5LTMyLWJ5dGU="),
            xs2a_token: Secret::new(sandbox::xs2a::XS2A_API_TOKEN),
            xs2a_api_url: None,
            link_timeout_secs: 15 * 60,
            worker_interval_ms: 1000,
            start_clock_at: None,
            trusted_proxies: TrustedProxies::default(),
            allowed_origins: crate::cors::AllowedOrigins::default(),
            rate_sessions_per_min: 30,
            rate_orders_per_min: 30,
            sync_schedule: crate::bank_schedule::SyncSchedule::Off,
        }
    }

    /// Reads the variables of the README's configuration table (`KC_*`, `KLARNA_*`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::sandbox(
            get("KC_DIST").unwrap_or_else(|| "dist".into()).into(),
            get("KC_DATABASE")
                .unwrap_or_else(|| "data/klarna-checkout.sqlite".into())
                .into(),
        );
        config.mode = match get("KC_MODE").as_deref().unwrap_or("sandbox") {
            "sandbox" => Mode::Sandbox,
            "playground" => Mode::Playground,
            "live" => Mode::Live,
            other => return Err(ConfigError::Mode(other.into())),
        };
        config.region = match get("KC_REGION").as_deref().unwrap_or("eu") {
            "eu" => Region::Eu,
            "na" => Region::Na,
            "oc" => Region::Oc,
            other => return Err(ConfigError::Region(other.into())),
        };
        let host = get("KC_HOST").unwrap_or_else(|| "127.0.0.1".into());
        let port = get("KC_PORT").unwrap_or_else(|| "8080".into());
        config.listen = format!("{host}:{port}")
            .parse()
            .map_err(|_| ConfigError::Listen(format!("{host}:{port}")))?;
        config.klarna_api_url = get("KLARNA_API_URL");
        config.public_url = get("KC_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(secret) = get("KC_HOOK_SECRET") {
            config.hook_secret = Secret::new(secret);
        }
        if let Some(delay) = get("KC_CALLBACK_DELAY_SECS") {
            config.callback_delay_secs = delay
                .parse()
                .map_err(|_| ConfigError::Listen(format!("KC_CALLBACK_DELAY_SECS={delay}")))?;
        }
        config.xs2a_api_url = get("KLARNA_XS2A_URL");
        if let Some(ms) = get("KC_WORKER_INTERVAL_MS") {
            config.worker_interval_ms = ms
                .parse()
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| ConfigError::Listen(format!("KC_WORKER_INTERVAL_MS={ms}")))?;
        }
        if let Some(secs) = get("KC_LINK_TIMEOUT_SECS") {
            config.link_timeout_secs = secs
                .parse()
                .map_err(|_| ConfigError::Listen(format!("KC_LINK_TIMEOUT_SECS={secs}")))?;
        }
        let schedule = get("KC_SYNC_SCHEDULE").unwrap_or_else(|| "daily".into());
        config.sync_schedule =
            crate::bank_schedule::SyncSchedule::parse(&schedule).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "KC_SYNC_SCHEDULE must be off, daily or a UTC time like 06:30, not {schedule:?}"
                ))
            })?;
        if let Some(list) = get("KC_TRUSTED_PROXIES") {
            config.trusted_proxies = TrustedProxies::parse(&list)?;
        }
        if let Some(list) = get("KC_ALLOWED_ORIGINS") {
            // A storefront on this machine may be plain http in the sandbox only.
            let loopback = config.mode == Mode::Sandbox;
            config.allowed_origins = crate::cors::AllowedOrigins::parse(&list, loopback)
                .map_err(ConfigError::Invalid)?;
        }
        for (name, field) in [
            (
                "KC_RATE_SESSIONS_PER_MIN",
                &mut config.rate_sessions_per_min,
            ),
            ("KC_RATE_ORDERS_PER_MIN", &mut config.rate_orders_per_min),
        ] {
            if let Some(value) = get(name) {
                *field = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or(ConfigError::RatePerMinute(name, value))?;
            }
        }
        if let Some(user) = get("KC_BOOKKEEPER_USER") {
            config.bookkeeper_user = user;
        }
        if let Some(hash) = get("KC_BOOKKEEPER_PASSWORD_HASH") {
            config.bookkeeper_password_hash = Secret::new(hash);
        }
        if let Some(key) = get("KC_CONSENT_KEY") {
            config.consent_key = Secret::new(key);
        }
        if config.mode != Mode::Sandbox {
            let mode = if config.mode == Mode::Live {
                "live"
            } else {
                "playground"
            };
            config.username = get("KLARNA_API_USERNAME")
                .ok_or(ConfigError::Missing("KLARNA_API_USERNAME", mode))?;
            config.password = Secret::new(
                get("KLARNA_API_PASSWORD")
                    .ok_or(ConfigError::Missing("KLARNA_API_PASSWORD", mode))?,
            );
            // Outside the sandbox there is no default key or password: consents would be
            // readable, and banks linkable, by anyone who read this file.
            config.consent_key = Secret::new(
                get("KC_CONSENT_KEY").ok_or(ConfigError::Missing("KC_CONSENT_KEY", mode))?,
            );
            if config.bookkeeper_password_hash.expose().is_empty() {
                return Err(ConfigError::Missing("KC_BOOKKEEPER_PASSWORD_HASH", mode));
            }
            // Without it every bank link would fail at the first call, long after start-up.
            config.xs2a_token = Secret::new(
                get("KLARNA_XS2A_TOKEN").ok_or(ConfigError::Missing("KLARNA_XS2A_TOKEN", mode))?,
            );
            // Klarna's callbacks are required (an approval may reach only the server) and are
            // authenticated by the secret in their URL: neither may be left to chance.
            let secret =
                get("KC_HOOK_SECRET").ok_or(ConfigError::Missing("KC_HOOK_SECRET", mode))?;
            if secret.len() < 16 || !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ConfigError::Invalid(
                    "KC_HOOK_SECRET must be at least 16 letters or digits".into(),
                ));
            }
            // The Open Banking client follows links only to this base, with the API token: a
            // plain-HTTP base would send the token and the bookkeeper's data unencrypted.
            if let Some(url) = config
                .xs2a_api_url
                .as_ref()
                .filter(|u| !u.starts_with("https://"))
            {
                return Err(ConfigError::Invalid(format!(
                    "KLARNA_XS2A_URL must be an https:// URL outside the sandbox, not {url:?}"
                )));
            }
            match &config.public_url {
                None => return Err(ConfigError::Missing("KC_PUBLIC_URL", mode)),
                Some(url) if !url.starts_with("https://") => {
                    return Err(ConfigError::Invalid(format!(
                        "KC_PUBLIC_URL must be an https:// URL Klarna can reach, not {url:?}"
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(config)
    }

    /// Klarna's API base for this mode and region (contract §1.1).
    pub fn klarna_base_url(&self, sandbox_origin: &str) -> String {
        if let Some(url) = &self.klarna_api_url {
            return url.clone();
        }
        let infix = self.region.host_infix();
        match self.mode {
            Mode::Sandbox => format!("{sandbox_origin}{}", sandbox::MOUNT_PATH),
            Mode::Playground => format!("https://api{infix}.playground.klarna.com"),
            Mode::Live => format!("https://api{infix}.klarna.com"),
        }
    }

    /// `merchant_urls.authorization`: where Klarna posts `{authorization_token, session_id}`.
    /// Klarna calls only HTTPS URLs; the sandbox also calls plain HTTP on this machine.
    pub fn authorization_callback_url(&self) -> Option<String> {
        self.hook_url("authorization")
    }

    /// `merchant_urls.notification`: where Klarna posts a pending order's fraud decision.
    pub fn notification_url(&self) -> Option<String> {
        self.hook_url("notification")
    }

    fn hook_url(&self, kind: &str) -> Option<String> {
        let base = self.public_url.as_ref()?;
        if self.mode != Mode::Sandbox && !base.starts_with("https://") {
            return None;
        }
        Some(format!(
            "{base}/hooks/klarna/{kind}/{}",
            self.hook_secret.expose()
        ))
    }

    /// Open Banking's API base (contract §3.1).
    pub fn xs2a_base_url(&self, sandbox_origin: &str) -> String {
        if let Some(url) = &self.xs2a_api_url {
            return url.clone();
        }
        match self.mode {
            Mode::Sandbox => format!("{sandbox_origin}{}", sandbox::MOUNT_PATH),
            Mode::Playground => "https://api.openbanking.playground.klarna.com".into(),
            Mode::Live => "https://api.openbanking.klarna.com".into(),
        }
    }

    /// Where browsers load the XS2A app launcher from.
    pub fn xs2a_launcher_url(&self) -> &'static str {
        match self.mode {
            Mode::Sandbox => sandbox::xs2a::XS2A_LAUNCHER_PATH,
            Mode::Playground | Mode::Live => {
                "https://x.klarnacdn.net/xs2a/app-launcher/v0/xs2a-app-launcher.js"
            }
        }
    }

    /// Where browsers load Klarna's `api.js` from; relative URLs are resolved against the endpoint.
    pub fn payments_sdk_url(&self) -> &'static str {
        match self.mode {
            Mode::Sandbox => sandbox::PAYMENTS_SDK_PATH,
            Mode::Playground | Mode::Live => "https://x.klarnacdn.net/kp/lib/v1/api.js",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn the_sync_schedule_is_daily_unless_set_and_a_bad_one_stops_the_start() {
        use crate::bank_schedule::{SyncSchedule, DAILY_DEFAULT};
        let read = |v: &str| Config::from_env(env(&[("KC_SYNC_SCHEDULE", v)]));
        assert_eq!(
            Config::from_env(env(&[])).unwrap().sync_schedule,
            DAILY_DEFAULT
        );
        assert_eq!(read("off").unwrap().sync_schedule, SyncSchedule::Off);
        assert_eq!(
            read("07:15").unwrap().sync_schedule,
            SyncSchedule::Daily { minute: 435 }
        );
        assert!(
            matches!(read("weekly"), Err(ConfigError::Invalid(m)) if m.contains("KC_SYNC_SCHEDULE"))
        );
    }

    #[test]
    fn playground_needs_credentials_and_picks_region_host() {
        assert_eq!(
            Config::from_env(env(&[("KC_MODE", "playground")])).unwrap_err(),
            ConfigError::Missing("KLARNA_API_USERNAME", "playground")
        );
        let c = Config::from_env(env(&[
            ("KC_MODE", "playground"),
            ("KC_REGION", "na"),
            ("KLARNA_API_USERNAME", "u"),
            ("KLARNA_API_PASSWORD", "p"),
            ("KC_CONSENT_KEY", "k"),
            ("KC_BOOKKEEPER_PASSWORD_HASH", "h"),
            ("KLARNA_XS2A_TOKEN", "x"),
            ("KC_HOOK_SECRET", "0123456789abcdef"),
            ("KC_PUBLIC_URL", "https://shop.example"),
        ]))
        .unwrap();
        assert_eq!(
            c.klarna_base_url(""),
            "https://api-na.playground.klarna.com"
        );
        assert!(!format!("{c:?}").contains("\"p\""));
    }

    #[test]
    fn outside_the_sandbox_there_is_no_default_consent_key_or_password() {
        let base = [
            ("KC_MODE", "live"),
            ("KLARNA_API_USERNAME", "u"),
            ("KLARNA_API_PASSWORD", "p"),
        ];
        assert_eq!(
            Config::from_env(env(&base)).unwrap_err(),
            ConfigError::Missing("KC_CONSENT_KEY", "live")
        );
        let with_key: Vec<_> = base
            .iter()
            .copied()
            .chain([("KC_CONSENT_KEY", "k")])
            .collect();
        assert_eq!(
            Config::from_env(env(&with_key)).unwrap_err(),
            ConfigError::Missing("KC_BOOKKEEPER_PASSWORD_HASH", "live")
        );
        let with_hash: Vec<_> = with_key
            .iter()
            .copied()
            .chain([("KC_BOOKKEEPER_PASSWORD_HASH", "h")])
            .collect();
        assert_eq!(
            Config::from_env(env(&with_hash)).unwrap_err(),
            ConfigError::Missing("KLARNA_XS2A_TOKEN", "live")
        );
        let with_token: Vec<_> = with_hash
            .iter()
            .copied()
            .chain([("KLARNA_XS2A_TOKEN", "x")])
            .collect();
        assert_eq!(
            Config::from_env(env(&with_token)).unwrap_err(),
            ConfigError::Missing("KC_HOOK_SECRET", "live")
        );
        let with_secret: Vec<_> = with_token
            .iter()
            .copied()
            .chain([("KC_HOOK_SECRET", "0123456789abcdef")])
            .collect();
        assert_eq!(
            Config::from_env(env(&with_secret)).unwrap_err(),
            ConfigError::Missing("KC_PUBLIC_URL", "live")
        );
        let plain_http: Vec<_> = with_secret
            .iter()
            .copied()
            .chain([("KC_PUBLIC_URL", "http://shop.example")])
            .collect();
        assert!(matches!(
            Config::from_env(env(&plain_http)).unwrap_err(),
            ConfigError::Invalid(m) if m.contains("KC_PUBLIC_URL")
        ));
    }

    #[test]
    fn open_banking_outside_the_sandbox_is_reached_over_https_only() {
        let base = [
            ("KC_MODE", "live"),
            ("KLARNA_API_USERNAME", "u"),
            ("KLARNA_API_PASSWORD", "p"),
            ("KC_CONSENT_KEY", "k"),
            ("KC_BOOKKEEPER_PASSWORD_HASH", "h"),
            ("KLARNA_XS2A_TOKEN", "x"),
            ("KC_HOOK_SECRET", "0123456789abcdef"),
            ("KC_PUBLIC_URL", "https://shop.example"),
        ];
        let with = |url: &str| {
            let pairs: Vec<_> = base
                .iter()
                .copied()
                .chain([("KLARNA_XS2A_URL", url)])
                .collect();
            Config::from_env(env(&pairs))
        };
        for plain in [
            "http://api.openbanking.klarna.com",
            "api.openbanking.klarna.com",
        ] {
            assert!(
                matches!(with(plain), Err(ConfigError::Invalid(m)) if m.contains("KLARNA_XS2A_URL")),
                "{plain}"
            );
        }
        let c = with("https://api.openbanking.playground.klarna.com").unwrap();
        assert_eq!(
            c.xs2a_base_url(""),
            "https://api.openbanking.playground.klarna.com"
        );
        assert_eq!(
            Config::from_env(env(&base)).unwrap().xs2a_base_url(""),
            "https://api.openbanking.klarna.com"
        );
        // The sandbox is reached over plain HTTP on this machine.
        let c = Config::from_env(env(&[("KLARNA_XS2A_URL", "http://127.0.0.1:9/sandbox")]));
        assert!(c.is_ok());
    }

    #[test]
    fn rate_limits_and_trusted_proxies_are_read_and_bad_values_named() {
        let c = Config::from_env(env(&[])).unwrap();
        assert_eq!((c.rate_sessions_per_min, c.rate_orders_per_min), (30, 30));
        assert!(c.trusted_proxies.is_empty());
        let c = Config::from_env(env(&[
            ("KC_RATE_SESSIONS_PER_MIN", "5"),
            ("KC_RATE_ORDERS_PER_MIN", " 7 "),
            ("KC_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8, fd00::/8"),
        ]))
        .unwrap();
        assert_eq!((c.rate_sessions_per_min, c.rate_orders_per_min), (5, 7));
        assert!(c.trusted_proxies.trusts("10.9.8.7".parse().unwrap()));
        assert!(!c.trusted_proxies.trusts("192.0.2.1".parse().unwrap()));
        for bad in ["0", "-1", "ten", ""] {
            assert_eq!(
                Config::from_env(env(&[("KC_RATE_ORDERS_PER_MIN", bad)])).unwrap_err(),
                ConfigError::RatePerMinute("KC_RATE_ORDERS_PER_MIN", bad.into())
            );
        }
        let e =
            Config::from_env(env(&[("KC_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/40")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "KC_TRUSTED_PROXIES: \"10.0.0.0/40\": the prefix length must be a number up to 32"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(****)");
    }
}
