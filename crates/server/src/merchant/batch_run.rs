//! `klarna-checkout-server batch <file> [<response-file>]`: runs a batch file ([`super::batch`])
//! against Klarna through the same idempotent path as the HTTP API
//! ([`super::operations::perform`]), and writes the response file (by default next to the
//! input, as `<file>.response`).
//!
//! A record's identity is the HEAD's MerchantID and Date, its TransID, its action and its
//! RefNr: that is its `Idempotency-Key`. Running the same file again therefore repeats nothing:
//! each record answers as the first run did (one Klarna had not answered yet is sent again
//! under its key). Within one day's files a second partial capture of one payment needs its own
//! TransID or RefNr; the same identity with another amount is refused (`idempotency_key_reused`).
//!
//! Every record ends `OK`, `FAILED` with a code, or `PENDING` (sent, Klarna's answer not in
//! yet: the server's worker finishes it; rerun the file to see how it ended, never resend it
//! under another TransID). The command exits 0 when every record is `OK`, 3 when the response
//! file has others, 1 when the file was rejected as a whole (nothing ran), 2 for a wrong call.
//!
//! What the actions do, as Computop describes them: CAPTURE captures (`ArticleList`, when
//! given, becomes the capture's order lines), CREDIT refunds, REVERSE ("Storno") gives up what
//! is not captured: it cancels an order without captures, or releases the rest of a
//! part-captured one; its Amount must be exactly what it gives up. Every record's currency must
//! be the order's.

use super::batch::{self, Action, Executor, Outcome, Record, Status};
use super::errors::{MerchantCode, MerchantError};
use super::ledger::{Kind, Planned, StoredOp};
use super::operations::{self, existing, perform, read_order, Ops};
use super::rules::Operation;
use crate::config::{Config, ConfigError};
use crate::klarna_client::KlarnaClient;
use crate::store::Store;
use base64::Engine;
use klarna::order_management::{CaptureRequest, RefundRequest};
use klarna::OrderLine;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use thiserror::Error;

pub const USAGE: &str = "usage: klarna-checkout-server batch <file> [<response-file>]";

#[derive(Debug, Error)]
pub enum BatchCliError {
    #[error("{USAGE}")]
    Usage,
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("could not open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// The file as a whole is wrong: nothing of it was run.
    #[error("{path}: rejected, nothing was run: {error}")]
    Rejected {
        path: String,
        error: batch::BatchError,
    },
}

impl BatchCliError {
    /// 2 for a wrong call or configuration, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            BatchCliError::Usage | BatchCliError::Config(_) => 2,
            _ => 1,
        }
    }
}

/// Runs records against Klarna, each once. Counts the records that did not end `OK`.
pub struct KlarnaExecutor<'a> {
    pub store: &'a Store,
    pub klarna: &'a KlarnaClient,
    pub clock: &'a sandbox::Clock,
    /// The HEAD's date: part of every record's identity.
    pub file_date: String,
    pub not_ok: AtomicUsize,
}

impl KlarnaExecutor<'_> {
    /// A record's `Idempotency-Key`: the file's merchant and date, its TransID, action and
    /// RefNr.
    fn key(&self, merchant_id: &str, r: &Record) -> String {
        format!(
            "batch:{merchant_id}:{}:{}:{}:{}",
            self.file_date,
            r.trans_id,
            r.action.as_str(),
            r.ref_nr.as_deref().unwrap_or_default()
        )
    }
}

impl Executor for KlarnaExecutor<'_> {
    fn run(
        &self,
        merchant_id: &str,
        record: &Record,
    ) -> impl std::future::Future<Output = Outcome> + Send {
        let key = self.key(merchant_id, record);
        async move {
            let ops = Ops {
                store: self.store,
                klarna: self.klarna,
                clock: self.clock,
            };
            let outcome = match run_record(ops, &key, record).await {
                Ok(operations::Outcome::Done(_)) => Outcome::ok("ok"),
                Ok(operations::Outcome::Pending(_)) => Outcome::pending("pending"),
                Err(e) => Outcome::failed(code_of(&e)),
            };
            if outcome.status != Status::Ok {
                self.not_ok.fetch_add(1, Ordering::Relaxed);
            }
            outcome
        }
    }
}

fn code_of(e: &MerchantError) -> String {
    serde_json::to_value(e.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "failed".into())
}

/// Whether a stored operation is this record's: same action and amount. (A rerun must not
/// find a different record under the same identity.)
fn same_record(op: &StoredOp, r: &Record) -> bool {
    let kind_fits = match r.action {
        Action::Capture => op.kind == Kind::Capture,
        Action::Credit => op.kind == Kind::Refund,
        Action::Reverse => matches!(op.kind, Kind::Cancel | Kind::Release),
    };
    kind_fits && op.amount == r.amount
}

async fn run_record(
    ops: Ops<'_>,
    key: &str,
    r: &Record,
) -> Result<operations::Outcome, MerchantError> {
    // A record run before answers as then, whatever the order looks like now (a reversal
    // that released the rest finds nothing left to release).
    if let Some(outcome) = existing(ops, &r.pay_id, key, None).await? {
        if !same_record(outcome.op(), r) {
            return Err(MerchantError::on(
                MerchantCode::IdempotencyKeyReused,
                "TransID",
                "A record with this TransID, action and RefNr was run before with another amount.",
            ));
        }
        return Ok(outcome);
    }
    let order = read_order(ops, &r.pay_id).await?;
    if order.purchase_currency != r.currency {
        return Err(MerchantError::invalid(
            "Currency",
            format!(
                "The order is in {}, not {}.",
                order.purchase_currency, r.currency
            ),
        ));
    }
    let lines = r.article_list.as_deref().map(article_list).transpose()?;
    let planned = match r.action {
        Action::Capture => {
            let request = CaptureRequest {
                captured_amount: r.amount,
                description: None,
                reference: r.ref_nr.clone(),
                order_lines: lines,
                shipping_info: Vec::new(),
                shipping_delay: None,
            };
            plan(
                Kind::Capture,
                Operation::Capture(r.amount),
                r.amount,
                &request,
            )?
        }
        Action::Credit => {
            let request = RefundRequest {
                refunded_amount: r.amount,
                description: None,
                reference: r.ref_nr.clone(),
                order_lines: lines,
            };
            plan(
                Kind::Refund,
                Operation::Refund(r.amount),
                r.amount,
                &request,
            )?
        }
        Action::Reverse => {
            let (kind, operation, gives_up) = if order.captured_amount == 0 {
                (Kind::Cancel, Operation::Cancel, order.order_amount)
            } else {
                (
                    Kind::Release,
                    Operation::Release,
                    order.remaining_authorized_amount,
                )
            };
            if r.amount != gives_up {
                return Err(MerchantError::invalid(
                    "Amount",
                    format!("A reversal gives up all that is not captured: {gives_up}."),
                ));
            }
            Planned {
                kind,
                operation,
                // Recorded so a rerun recognises the record; moves no money itself.
                amount: r.amount,
                target: String::new(),
                request: serde_json::Value::Null,
            }
        }
    };
    perform(ops, &r.pay_id, key, planned).await
}

fn plan<T: serde::Serialize>(
    kind: Kind,
    operation: Operation,
    amount: i64,
    request: &T,
) -> Result<Planned, MerchantError> {
    Ok(Planned {
        kind,
        operation,
        amount,
        target: String::new(),
        request: serde_json::to_value(request)
            .map_err(|e| MerchantError::internal("encoding a request", e))?,
    })
}

/// `ArticleList`: Base64 of `{"order_lines": […]}` (the parser has checked the shape).
fn article_list(text: &str) -> Result<Vec<OrderLine>, MerchantError> {
    #[derive(serde::Deserialize)]
    struct Articles {
        order_lines: Vec<OrderLine>,
    }
    let bad = |why: String| MerchantError::invalid("ArticleList", why);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| bad(format!("not Base64: {e}")))?;
    serde_json::from_slice::<Articles>(&bytes)
        .map(|a| a.order_lines)
        .map_err(|e| bad(format!("not an article list: {e}")))
}

/// The subcommand: `args` are what follows `batch`. `Ok(n)`: the response file was written
/// and `n` records did not end `OK` (the exit status is then 3).
pub async fn main(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
    note: &mut impl Write,
) -> Result<usize, BatchCliError> {
    let (input, output) = match args {
        [input] => (
            PathBuf::from(input),
            PathBuf::from(format!("{input}.response")),
        ),
        [input, output] => (PathBuf::from(input), PathBuf::from(output)),
        _ => return Err(BatchCliError::Usage),
    };
    let config = Config::from_env(env)?;
    let store = Store::open(&config.database).await?;
    // In sandbox mode, the sandbox of the server running at KC_PUBLIC_URL (or KC_LISTEN).
    let origin = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let klarna = KlarnaClient::new(
        config.klarna_base_url(&origin),
        config.username.clone(),
        config.password.clone(),
    );
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |error| BatchCliError::Io { path, error }
    };
    let text = std::fs::read_to_string(&input).map_err(io(&input))?;
    let ran = run_text(&text, &store, &klarna, &sandbox::Clock::default())
        .await
        .map_err(|error| BatchCliError::Rejected {
            path: input.display().to_string(),
            error,
        })?;
    // Written whole or not at all: a crash never leaves half a response file.
    let partial = output.with_extension("partial");
    std::fs::write(&partial, &ran.response).map_err(io(&partial))?;
    std::fs::rename(&partial, &output).map_err(io(&output))?;
    let _ = writeln!(
        note,
        "response file: {} ({} of {} records not OK)",
        output.display(),
        ran.not_ok,
        ran.records
    );
    Ok(ran.not_ok)
}

/// A file run: its response file, and how many of its records did not end `OK`.
#[derive(Debug)]
pub struct Ran {
    pub response: String,
    pub records: usize,
    pub not_ok: usize,
}

/// Parses `text` and runs it: the response file, or why the file was rejected as a whole.
pub async fn run_text(
    text: &str,
    store: &Store,
    klarna: &KlarnaClient,
    clock: &sandbox::Clock,
) -> Result<Ran, batch::BatchError> {
    let file = batch::parse(text)?;
    let executor = KlarnaExecutor {
        store,
        klarna,
        clock,
        file_date: file.date.clone(),
        not_ok: AtomicUsize::new(0),
    };
    let response = batch::process(&file, &executor).await;
    let bad = file
        .records
        .iter()
        .filter(|l| matches!(l, batch::Line::Bad(_)))
        .count();
    Ok(Ran {
        response,
        records: file.records.len(),
        not_ok: executor.not_ok.load(Ordering::Relaxed) + bad,
    })
}
