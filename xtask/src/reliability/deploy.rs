//! What a scenario runs against, on either engine: a fresh Klarna sandbox, a fresh database (a
//! SQLite file, or a database of its own in the throwaway PostgreSQL cluster) and one or more
//! instances of our server on it. Exists so the scenarios are written once and run on SQLite
//! with one instance and on PostgreSQL with two. Everything is stopped and removed on drop.

use super::client::{Klarna, Shop};
use super::ledger::{self, Ours};
use super::procs::{SandboxProcess, Scratch, ServerProcess};
use super::BenchResult;
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use std::path::PathBuf;

/// Where a run keeps its orders.
#[derive(Clone)]
pub enum Engine {
    Sqlite,
    /// The cluster's administrator URL (`postgres://kc@127.0.0.1:PORT/postgres`).
    Postgres(String),
}

impl Engine {
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres(_) => "PostgreSQL",
        }
    }
}

/// One scenario's database, as `KC_DATABASE` names it and the ledger reads it.
pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Fields drop in order: the servers first, then the sandbox, then the scratch directory.
pub struct Deployment {
    pub servers: Vec<ServerProcess>,
    pub sandbox: SandboxProcess,
    db: Db,
    _scratch: Scratch,
}

impl Deployment {
    /// `instances` servers on one fresh database called after `name` (letters and `_` only).
    pub async fn start(
        engine: &Engine,
        instances: usize,
        name: &str,
        http: &reqwest::Client,
    ) -> BenchResult<Deployment> {
        let scratch = Scratch::new(name)?;
        let sandbox = SandboxProcess::start()?;
        let db = match engine {
            Engine::Sqlite => Db::Sqlite(scratch.0.join("orders.sqlite")),
            Engine::Postgres(admin) => Db::Postgres(fresh_database(admin, name).await?),
        };
        let url = match &db {
            Db::Sqlite(file) => file.display().to_string(),
            Db::Postgres(url) => url.clone(),
        };
        let mut servers = Vec::with_capacity(instances);
        for i in 0..instances.max(1) {
            let log = format!("server{i}");
            servers
                .push(ServerProcess::start_on(&scratch, &sandbox, http, url.clone(), &log).await?);
        }
        Ok(Deployment {
            servers,
            sandbox,
            db,
            _scratch: scratch,
        })
    }

    pub fn shop(&self, http: &reqwest::Client) -> Shop {
        Shop {
            http: http.clone(),
            servers: self.servers.iter().map(ServerProcess::url).collect(),
            klarna: self.sandbox.api_url(),
        }
    }

    pub fn klarna(&self, http: &reqwest::Client) -> Klarna {
        Klarna {
            http: http.clone(),
            base: self.sandbox.api_url(),
        }
    }

    pub async fn our_orders(&self) -> BenchResult<Ours> {
        ledger::read(&self.db).await
    }
}

/// `CREATE DATABASE kc_NAME` in the cluster; its URL. The cluster is thrown away after the run,
/// so nothing drops it.
async fn fresh_database(admin: &str, name: &str) -> BenchResult<String> {
    let database = format!("kc_{name}");
    let mut conn = PgConnection::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database}"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Ok(format!("{base}/{database}"))
}
