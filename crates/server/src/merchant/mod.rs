//! What a merchant hands us in bulk rather than one call at a time: today the batch file of
//! Klarna captures, credits and reversals (`batch`).

pub mod batch;
