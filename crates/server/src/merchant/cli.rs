//! `klarna-checkout-server api-key …`: how an operator creates, lists and revokes the merchant
//! API's keys, on the database the server is configured with (`KC_DATABASE`), without a
//! running server. A new key is printed once, on standard output; only its digest is kept.

use super::keys::{self, KeyError, KeyInfo};
use crate::config::{Config, ConfigError};
use crate::store::Store;
use klarna::date::Date;
use std::io::Write;
use thiserror::Error;

pub const USAGE: &str = "usage: klarna-checkout-server api-key create <name>   create a key; prints it once
       klarna-checkout-server api-key list            every key: id, created, last used, status, name
       klarna-checkout-server api-key revoke <id>     the key stops working at once
The database is the server's: KC_DATABASE (and the rest of its configuration) from the environment.";

/// One `api-key` command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Create { name: String },
    List,
    Revoke { id: String },
}

#[derive(Debug, Error)]
pub enum CliError {
    #[error("{USAGE}")]
    Usage,
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("could not open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("no active API key with id {0:?} (see `api-key list`)")]
    NoActiveKey(String),
    #[error("could not write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The process's exit status: 2 for a wrong call or configuration, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage | CliError::Config(_) => 2,
            _ => 1,
        }
    }
}

/// The command in the arguments after `api-key`.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    match args {
        [cmd, name] if cmd == "create" => Ok(Command::Create { name: name.clone() }),
        [cmd] if cmd == "list" => Ok(Command::List),
        [cmd, id] if cmd == "revoke" => Ok(Command::Revoke { id: id.clone() }),
        _ => Err(CliError::Usage),
    }
}

/// `2026-06-15 12:30 UTC`.
fn time(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02} UTC",
        Date::from_unix(unix),
        secs / 3600,
        secs % 3600 / 60
    )
}

fn list_line(key: &KeyInfo) -> String {
    let last_used = key.last_used_at.map_or_else(|| "never".to_string(), time);
    let status = key
        .revoked_at
        .map_or_else(|| "active".to_string(), |t| format!("revoked {}", time(t)));
    format!(
        "{}\t{}\t{}\t{}\t{}",
        key.id,
        time(key.created_at),
        last_used,
        status,
        key.name
    )
}

/// Runs `command` on `store` at `now`: results on `out`, notes for the operator on `note`.
pub async fn run(
    command: Command,
    store: &Store,
    now: i64,
    out: &mut impl Write,
    note: &mut impl Write,
) -> Result<(), CliError> {
    match command {
        Command::Create { name } => {
            let (info, key) = keys::create(store, &name, now).await?;
            writeln!(out, "id: {}", info.id)?;
            writeln!(out, "key: {key}")?;
            writeln!(
                note,
                "Created API key {} ({:?}). This is the only time the key is shown: store it now. \
                 Callers send it as `Authorization: Bearer <key>`.",
                info.id, info.name
            )?;
        }
        Command::List => {
            let all = keys::list(store).await?;
            if all.is_empty() {
                writeln!(note, "No API keys yet: `api-key create <name>` makes one.")?;
            }
            for key in &all {
                writeln!(out, "{}", list_line(key))?;
            }
        }
        Command::Revoke { id } => {
            if !keys::revoke(store, &id, now).await? {
                return Err(CliError::NoActiveKey(id));
            }
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(())
}

/// `api-key` with `args` (the arguments after it) and the environment `env`: opens the
/// configured database (migrating it, as the server would) and runs the command at real time.
pub async fn main(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
    out: &mut impl Write,
    note: &mut impl Write,
) -> Result<(), CliError> {
    let command = parse(args)?;
    let config = Config::from_env(env)?;
    let store = Store::open(&config.database).await?;
    let now = sandbox::Clock::default().now();
    run(command, &store, now, out, note).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_the_three_commands_and_refuses_the_rest() {
        assert_eq!(
            parse(&args(&["create", "ERP"])).unwrap(),
            Command::Create { name: "ERP".into() }
        );
        assert_eq!(parse(&args(&["list"])).unwrap(), Command::List);
        assert_eq!(
            parse(&args(&["revoke", "abc"])).unwrap(),
            Command::Revoke { id: "abc".into() }
        );
        for bad in [
            &[][..],
            &["create"][..],
            &["create", "a", "b"][..],
            &["list", "x"][..],
            &["revoke"][..],
            &["delete", "abc"][..],
        ] {
            let e = parse(&args(bad)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
            assert!(e.to_string().starts_with("usage:"));
        }
    }

    #[test]
    fn lists_times_in_utc() {
        // 2026-06-15 12:30:59 UTC.
        let t = 1_781_526_659;
        let key = KeyInfo {
            id: "abcDEF123456".into(),
            name: "ERP".into(),
            created_at: t,
            revoked_at: Some(t + 60),
            last_used_at: None,
        };
        assert_eq!(
            list_line(&key),
            "abcDEF123456\t2026-06-15 12:30 UTC\tnever\trevoked 2026-06-15 12:31 UTC\tERP"
        );
    }
}
