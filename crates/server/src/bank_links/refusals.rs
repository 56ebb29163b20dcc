//! What the bookkeeper is told when a launcher ending links nothing (`ending.rs`): in English
//! and German, with the error code the page acts on (`link_not_finished` offers "Check again").

use super::link_error;
use crate::error::AppError;
use crate::lang::say;
use klarna::api::{ErrorCode, LinkEnding};
use klarna::xs2a::FlowRead;

/// The bank is still confirming (a decoupled approval): the session is kept, it may finish yet.
pub(super) fn not_finished() -> AppError {
    link_error(
        ErrorCode::LinkNotFinished,
        &say(
            "Your bank has not confirmed the link yet. Check again in a moment.",
            "Ihre Bank hat die Verknüpfung noch nicht bestätigt. Bitte prüfen Sie es gleich noch einmal.",
        ),
    )
}

/// Another report of this link's ending is being handled right now and did not end in time.
pub(super) fn being_ended() -> AppError {
    link_error(
        ErrorCode::LinkNotFinished,
        &say(
            "This bank link is being checked right now. Check again in a moment.",
            "Diese Bankverknüpfung wird gerade geprüft. Bitte prüfen Sie es gleich noch einmal.",
        ),
    )
}

/// The link ended before without a bank (aborted, failed, timed out).
pub(super) fn closed_already() -> AppError {
    link_error(
        ErrorCode::LinkFailed,
        &say(
            "This bank link is already closed. Start a new one.",
            "Diese Bankverknüpfung ist bereits beendet. Bitte starten Sie eine neue.",
        ),
    )
}

/// The flow did not finish and the launcher that could finish it is gone.
pub(super) fn gone(ending: LinkEnding) -> AppError {
    match ending {
        LinkEnding::Finished => link_error(
            ErrorCode::LinkFailed,
            &say(
                "The bank's window closed before your bank confirmed the link. Nothing was linked; please start again.",
                "Das Fenster der Bank wurde geschlossen, bevor Ihre Bank die Verknüpfung bestätigt hat. Es wurde nichts verknüpft; bitte beginnen Sie neu.",
            ),
        ),
        LinkEnding::Error => link_error(
            ErrorCode::LinkFailed,
            &say(
                "The bank's window stopped with an error. Nothing was linked; please start again.",
                "Das Fenster der Bank wurde mit einem Fehler beendet. Es wurde nichts verknüpft; bitte beginnen Sie neu.",
            ),
        ),
        LinkEnding::Closed | LinkEnding::Aborted => link_error(
            ErrorCode::LinkAborted,
            &say(
                "You closed the bank's window. Nothing was linked.",
                "Sie haben das Fenster der Bank geschlossen. Es wurde nichts verknüpft.",
            ),
        ),
        LinkEnding::GivenUp => link_error(
            ErrorCode::LinkAborted,
            &say(
                "The link was given up. Nothing was linked.",
                "Die Verknüpfung wurde aufgegeben. Es wurde nichts verknüpft.",
            ),
        ),
    }
}

/// The flow ended in `EXCEPTION`: the bank's own words when it gave any.
pub(super) fn bank_failure(flow: FlowRead) -> AppError {
    let said = flow
        .error
        .map(|e| e.message)
        .filter(|m| !m.trim().is_empty());
    let message = match said {
        // The bank's own words stay as the bank wrote them.
        // A bank that already says "try again later" needs no hint about login details.
        Some(m)
            if ["try again", "später erneut", "erneut versuchen"]
                .iter()
                .any(|w| m.to_lowercase().contains(w)) =>
        {
            say(
                &format!("The bank stopped the linking: {}", m.trim()),
                &format!("Die Bank hat die Verknüpfung abgebrochen: {}", m.trim()),
            )
        }
        Some(m) => {
            let m = m.trim().trim_end_matches('.');
            say(
                &format!(
                    "The bank stopped the linking: {m}. Check your login details and start again."
                ),
                &format!("Die Bank hat die Verknüpfung abgebrochen: {m}. Prüfen Sie Ihre Zugangsdaten und beginnen Sie neu."),
            )
        }
        None => say(
            "The bank reported a problem (for example maintenance). Please try again later.",
            "Die Bank meldet ein Problem (zum Beispiel Wartungsarbeiten). Bitte versuchen Sie es später erneut.",
        ),
    };
    link_error(ErrorCode::LinkFailed, &message)
}
