//! `klarna-checkout-server batch <file> [<response-file>]`: runs a batch file ([`super::batch`])
//! against Klarna through the same idempotent path as the HTTP API
//! ([`super::operations::perform`]), and writes the response file (by default next to the
//! input, as `<file>.response`).
//!
//! A record's identity is the HEAD's MerchantID, its TransID, its action and its RefNr: that
//! is its `Idempotency-Key`. Running the same file again therefore repeats nothing, each record
//! answers as the first run did. A second partial capture of one payment needs its own TransID
//! or RefNr; the same identity with another amount is refused (`idempotency_key_reused`).
//!
//! What the actions do, as Computop describes them: CAPTURE captures (`ArticleList`, when
//! given, becomes the capture's order lines), CREDIT refunds, REVERSE ("Storno") gives up what
//! is not captured: it cancels an order without captures, or releases the rest of a
//! part-captured one; its Amount must be exactly what it gives up. Every record's currency must
//! be the order's.

use super::batch::{self, Action, Executor, Outcome, Record};
use super::errors::MerchantError;
use super::ledger::{Kind, OpState, Planned};
use super::operations::{perform, read_order, Ops};
use super::rules::Operation;
use crate::config::{Config, ConfigError};
use crate::klarna_client::KlarnaClient;
use crate::store::Store;
use base64::Engine;
use klarna::order_management::{CaptureRequest, RefundRequest};
use klarna::OrderLine;
use std::io::Write;
use std::path::PathBuf;
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

/// Runs records against Klarna, each once.
pub struct KlarnaExecutor<'a> {
    pub store: &'a Store,
    pub klarna: &'a KlarnaClient,
    pub clock: &'a sandbox::Clock,
}

impl Executor for KlarnaExecutor<'_> {
    fn run(
        &self,
        merchant_id: &str,
        record: &Record,
    ) -> impl std::future::Future<Output = Outcome> + Send {
        let key = format!(
            "batch:{merchant_id}:{}:{}:{}",
            record.trans_id,
            record.action.as_str(),
            record.ref_nr.as_deref().unwrap_or_default()
        );
        async move {
            let ops = Ops {
                store: self.store,
                klarna: self.klarna,
                now: self.clock.now(),
            };
            match run_record(ops, &key, record).await {
                Ok(Some(id)) => Outcome::ok("ok").with_inv_no(id),
                Ok(None) => Outcome::ok("ok"),
                Err(e) => Outcome::failed(code_of(&e)),
            }
        }
    }
}

fn code_of(e: &MerchantError) -> String {
    serde_json::to_value(e.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "failed".into())
}

/// The capture or refund id, for the response's InvNo.
async fn run_record(ops: Ops<'_>, key: &str, r: &Record) -> Result<Option<String>, MerchantError> {
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
                amount: 0,
                target: String::new(),
                request: serde_json::Value::Null,
            }
        }
    };
    let op = perform(ops, &r.pay_id, key, planned).await?;
    Ok(match op.state {
        OpState::Done { klarna_id } => klarna_id,
        _ => None,
    })
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

/// The subcommand: `args` are what follows `batch`.
pub async fn main(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
    note: &mut impl Write,
) -> Result<(), BatchCliError> {
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
    let clock = sandbox::Clock::default();
    let executor = KlarnaExecutor {
        store: &store,
        klarna: &klarna,
        clock: &clock,
    };
    let text = std::fs::read_to_string(&input).map_err(|error| BatchCliError::Io {
        path: input.display().to_string(),
        error,
    })?;
    let answer = run_text(&text, &executor)
        .await
        .map_err(|error| BatchCliError::Rejected {
            path: input.display().to_string(),
            error,
        })?;
    std::fs::write(&output, answer).map_err(|error| BatchCliError::Io {
        path: output.display().to_string(),
        error,
    })?;
    let _ = writeln!(note, "response file: {}", output.display());
    Ok(())
}

/// Parses `text` and runs it: the response file, or why the file was rejected as a whole.
pub async fn run_text(
    text: &str,
    executor: &KlarnaExecutor<'_>,
) -> Result<String, batch::BatchError> {
    let file = batch::parse(text)?;
    Ok(batch::process(&file, executor).await)
}
