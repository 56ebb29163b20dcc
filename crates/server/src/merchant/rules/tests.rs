//! Every operation against every state: the allowed ones pass, the refused ones name why.

use super::*;

fn facts(status: OmStatus, captured: i64, refunded: i64, remaining: i64) -> Facts {
    Facts {
        status,
        fraud: FraudStatus::Accepted,
        order_amount: 10_000,
        captured,
        refunded,
        remaining,
    }
}

fn authorized() -> Facts {
    facts(OmStatus::Authorized, 0, 0, 10_000)
}
fn part_captured() -> Facts {
    facts(OmStatus::PartCaptured, 4_000, 0, 6_000)
}
fn captured() -> Facts {
    facts(OmStatus::Captured, 10_000, 0, 0)
}
fn part_refunded() -> Facts {
    facts(OmStatus::Captured, 10_000, 2_500, 0)
}
fn refunded() -> Facts {
    facts(OmStatus::Captured, 10_000, 10_000, 0)
}
fn cancelled() -> Facts {
    facts(OmStatus::Cancelled, 0, 0, 0)
}
fn expired() -> Facts {
    facts(OmStatus::Expired, 0, 0, 0)
}
fn pending_review() -> Facts {
    Facts {
        fraud: FraudStatus::Pending,
        ..authorized()
    }
}

const NONE: InFlight = InFlight {
    capturing: 0,
    refunding: 0,
};

#[test]
fn states_read_as_a_merchant_expects() {
    assert_eq!(authorized().state(), OrderState::Authorized);
    assert_eq!(pending_review().state(), OrderState::PendingReview);
    assert_eq!(part_captured().state(), OrderState::PartCaptured);
    assert_eq!(captured().state(), OrderState::Captured);
    assert_eq!(part_refunded().state(), OrderState::PartRefunded);
    assert_eq!(refunded().state(), OrderState::Refunded);
    assert_eq!(cancelled().state(), OrderState::Cancelled);
    assert_eq!(expired().state(), OrderState::Expired);
    // All that was captured refunded, more left to capture: not "refunded".
    let open = facts(OmStatus::PartCaptured, 4_000, 4_000, 6_000);
    assert_eq!(open.state(), OrderState::PartRefunded);
}

/// `true` where the operation is allowed, per state, in the order of the columns below.
#[test]
fn every_operation_in_every_state() {
    use Operation::*;
    let states: [(&str, Facts); 8] = [
        ("authorized", authorized()),
        ("pending_review", pending_review()),
        ("part_captured", part_captured()),
        ("captured", captured()),
        ("part_refunded", part_refunded()),
        ("refunded", refunded()),
        ("cancelled", cancelled()),
        ("expired", expired()),
    ];
    //                                auth   pend   part   capt   p-ref  ref    canc   exp
    let table: [(Operation, [bool; 8]); 9] = [
        (
            Capture(1_000),
            [true, false, true, false, false, false, false, false],
        ),
        (
            Refund(1_000),
            [false, false, true, true, true, false, false, false],
        ),
        (
            Cancel,
            [true, true, false, false, false, false, false, false],
        ),
        (
            Release,
            [false, false, true, false, false, false, false, false],
        ),
        (
            Extend,
            [true, true, true, false, false, false, false, false],
        ),
        (
            UpdateAuthorization(9_000),
            [true, true, true, false, false, false, false, false],
        ),
        (
            UpdateCustomerDetails,
            [true, true, true, false, false, false, false, false],
        ),
        (
            UpdateReferences,
            [true, true, true, true, true, true, false, true],
        ),
        (
            SendOut,
            [false, false, true, true, true, true, false, false],
        ),
    ];
    for (op, allowed) in table {
        for ((name, f), expected) in states.iter().zip(allowed) {
            let got = check(op, f, NONE);
            assert_eq!(got.is_ok(), expected, "{op:?} on {name}: {got:?}");
            if let Err(e) = got {
                assert_eq!(e.code, MerchantCode::NotAllowed, "{op:?} on {name}");
                assert!(!e.message.is_empty());
            }
        }
    }
}

#[test]
fn a_capture_never_exceeds_what_remains_counting_what_is_in_flight() {
    let f = part_captured();
    assert!(check(Operation::Capture(6_000), &f, NONE).is_ok());
    let e = check(Operation::Capture(6_001), &f, NONE).unwrap_err();
    assert_eq!(e.fields, ["amount"]);
    assert!(e.message.contains("6000"), "{}", e.message);
    let busy = InFlight {
        capturing: 5_000,
        refunding: 0,
    };
    assert!(check(Operation::Capture(1_000), &f, busy).is_ok());
    let e = check(Operation::Capture(1_001), &f, busy).unwrap_err();
    assert!(e.message.contains("1000"), "{}", e.message);
}

#[test]
fn a_refund_never_exceeds_what_was_captured_and_not_refunded() {
    let f = part_refunded();
    assert!(check(Operation::Refund(7_500), &f, NONE).is_ok());
    assert!(check(Operation::Refund(7_501), &f, NONE).is_err());
    let busy = InFlight {
        capturing: 0,
        refunding: 7_000,
    };
    assert!(check(Operation::Refund(501), &f, busy).is_err());
}

#[test]
fn amounts_must_be_positive_and_are_named() {
    let e = check(Operation::UpdateAuthorization(0), &authorized(), NONE).unwrap_err();
    assert_eq!(
        (e.code, e.fields.as_slice()),
        (
            MerchantCode::InvalidFields,
            ["order_amount".to_string()].as_slice()
        )
    );
    // "All" of nothing: a capture or refund whose amount was settled from the order as 0.
    for (op, f) in [
        (Operation::Capture(0), part_captured()),
        (Operation::Refund(0), part_refunded()),
    ] {
        let e = check(op, &f, NONE).unwrap_err();
        assert_eq!(e.code, MerchantCode::NotAllowed, "{op:?}");
        assert!(e.message.contains("Nothing is left"), "{e:?}");
    }
}

#[test]
fn the_authorization_never_goes_below_what_was_captured() {
    let f = part_captured();
    assert!(check(Operation::UpdateAuthorization(4_000), &f, NONE).is_ok());
    let e = check(Operation::UpdateAuthorization(3_999), &f, NONE).unwrap_err();
    assert_eq!(e.fields, ["order_amount"]);
}

#[test]
fn cancel_and_release_wait_for_captures_in_flight() {
    let busy = InFlight {
        capturing: 100,
        refunding: 0,
    };
    assert!(check(Operation::Cancel, &authorized(), busy).is_err());
    assert!(check(Operation::Release, &part_captured(), busy).is_err());
}

#[test]
fn figures_read_before_our_own_capture_finished_catch_up_with_it() {
    let stale = authorized();
    let now = stale.at_least(6_000, 0);
    assert_eq!((now.captured, now.remaining), (6_000, 4_000));
    assert!(check(Operation::Capture(6_000), &now, NONE).is_err());
    // Klarna's own figures win where they are ahead (a capture made in Klarna's portal).
    assert_eq!(part_captured().at_least(1_000, 0), part_captured());
}
