//! Every sentence the shopper reads, in English and German. Unknown locales fall back to English.

use klarna::{FieldError, FieldProblem, OrganizationEntityType};

pub use klarna::Lang;

/// Keys of fixed texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    Cart,
    Subtotal,
    Shipping,
    Discount,
    Tax,
    SalesTax,
    Total,
    IncludesVat,
    BillingAddress,
    ShippingAddress,
    SameAsBilling,
    Payment,
    Buy,
    ConfirmAgain,
    Working,
    TryAgain,
    StartingCheckout,
    LoadingKlarna,
    OrderThanks,
    OrderNumber,
    PendingReview,
    Cancelled,
    Rejected,
    NoCategoryLeft,
    InvalidFields,
    KlarnaFieldRejected,
    AuthorizationExpired,
    SessionRenewed,
    Network,
    TooManyRequests,
    ScriptLoadFailed,
    Internal,
    SupportId,
    Optional,
    Quantity,
    ConfirmingOrder,
    ConfirmingSlow,
    CheckAgain,
    ReviewRejected,
    PaymentDeclined,
    ChooseLegalForm,
    Company,
    ForExample,
    KlarnaPaused,
    UseKlarnaHere,
}

pub fn t(lang: Lang, text: Text) -> &'static str {
    use Text::*;
    match (lang, text) {
        (Lang::De, Cart) => "Warenkorb",
        (_, Cart) => "Your cart",
        (Lang::De, Subtotal) => "Zwischensumme",
        (_, Subtotal) => "Subtotal",
        (Lang::De, Shipping) => "Versand",
        (_, Shipping) => "Shipping",
        (Lang::De, Discount) => "Rabatt",
        (_, Discount) => "Discount",
        (Lang::De, Tax) => "enthaltene MwSt.",
        (_, Tax) => "Included VAT",
        (Lang::De, SalesTax) => "Umsatzsteuer",
        (_, SalesTax) => "Sales tax",
        (Lang::De, Total) => "Gesamt",
        (_, Total) => "Total",
        (Lang::De, IncludesVat) => "inkl. MwSt.",
        (_, IncludesVat) => "incl. VAT",
        (Lang::De, BillingAddress) => "Rechnungsadresse",
        (_, BillingAddress) => "Billing address",
        (Lang::De, ShippingAddress) => "Lieferadresse",
        (_, ShippingAddress) => "Shipping address",
        (Lang::De, SameAsBilling) => "Lieferadresse wie Rechnungsadresse",
        (_, SameAsBilling) => "Ship to my billing address",
        (Lang::De, Payment) => "Bezahlen mit Klarna",
        (_, Payment) => "Pay with Klarna",
        (Lang::De, Buy) => "Kaufen",
        (_, Buy) => "Buy",
        (Lang::De, ConfirmAgain) => "Zahlung erneut bestätigen",
        (_, ConfirmAgain) => "Confirm payment again",
        (Lang::De, Working) => "Einen Moment …",
        (_, Working) => "One moment…",
        (Lang::De, TryAgain) => "Erneut versuchen",
        (_, TryAgain) => "Try again",
        (Lang::De, StartingCheckout) => "Kasse wird vorbereitet …",
        (_, StartingCheckout) => "Preparing your checkout…",
        (Lang::De, LoadingKlarna) => "Klarna wird geladen …",
        (_, LoadingKlarna) => "Loading Klarna…",
        (Lang::De, OrderThanks) => "Vielen Dank für Ihre Bestellung!",
        (_, OrderThanks) => "Thank you for your order!",
        (Lang::De, OrderNumber) => "Bestellnummer",
        (_, OrderNumber) => "Order number",
        (Lang::De, PendingReview) => "Klarna prüft Ihre Zahlung noch. Wir versenden, sobald sie bestätigt ist, und informieren Sie per E-Mail.",
        (_, PendingReview) => "Klarna is still reviewing your payment. We will ship as soon as it is confirmed and let you know by e-mail.",
        (Lang::De, Cancelled) => "Sie haben Klarna geschlossen. Ihre Angaben sind noch da – Sie können jederzeit erneut kaufen.",
        (_, Cancelled) => "You closed Klarna. Your details are still here; you can buy whenever you are ready.",
        (Lang::De, Rejected) => "Klarna kann diese Zahlungsart für diesen Einkauf leider nicht anbieten. Bitte wählen Sie eine andere.",
        (_, Rejected) => "Klarna can't offer this payment option for this purchase. Please choose another one.",
        (Lang::De, NoCategoryLeft) => "Klarna kann für diesen Einkauf nicht genutzt werden. Bitte wählen Sie im Shop eine andere Zahlungsart.",
        (_, NoCategoryLeft) => "Klarna can't be used for this purchase. Please choose another payment method in the shop.",
        (Lang::De, InvalidFields) => "Bitte prüfen Sie die markierten Felder.",
        (_, InvalidFields) => "Please check the marked fields.",
        (Lang::De, KlarnaFieldRejected) => "Klarna konnte diesen Wert nicht annehmen. Bitte prüfen Sie ihn.",
        (_, KlarnaFieldRejected) => "Klarna could not accept this value. Please check it.",
        (Lang::De, AuthorizationExpired) => "Ihre Klarna-Freigabe ist abgelaufen. Bitte bestätigen Sie die Zahlung erneut.",
        (_, AuthorizationExpired) => "Your Klarna approval has expired. Please confirm the payment again.",
        (Lang::De, SessionRenewed) => "Die Sitzung war abgelaufen; wir haben eine neue gestartet. Ihre Angaben sind erhalten.",
        (_, SessionRenewed) => "Your session had expired, so we started a new one. Your details are kept.",
        (Lang::De, Network) => "Keine Verbindung zum Shop oder zu Klarna. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
        (_, Network) => "We couldn't reach the shop or Klarna. Check your connection and try again.",
        (Lang::De, TooManyRequests) => "Zu viele Versuche von Ihrer Verbindung. Bitte warten Sie eine Minute und versuchen Sie es dann erneut.",
        (_, TooManyRequests) => "Too many attempts from your connection. Please wait a minute and try again.",
        (Lang::De, ScriptLoadFailed) => "Klarna konnte nicht geladen werden. Bitte versuchen Sie es erneut.",
        (_, ScriptLoadFailed) => "Klarna could not be loaded. Please try again.",
        (Lang::De, Internal) => "Bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es erneut.",
        (_, Internal) => "Something went wrong on our side. Please try again.",
        (Lang::De, SupportId) => "Support-ID",
        (_, SupportId) => "Support id",
        (Lang::De, Optional) => "optional",
        (_, Optional) => "optional",
        (Lang::De, Quantity) => "Menge",
        (_, Quantity) => "Qty",
        (Lang::De, ConfirmingOrder) => "Klarna hat Ihre Zahlung freigegeben. Wir bestätigen Ihre Bestellung …",
        (_, ConfirmingOrder) => "Klarna approved your payment. Confirming your order…",
        (Lang::De, ConfirmingSlow) => "Klarna hat Ihre Zahlung freigegeben, Ihre Bestellung ist aber noch nicht bestätigt. Sie müssen nicht erneut zahlen: Sie erhalten eine E-Mail, sobald sie bestätigt ist.",
        (_, ConfirmingSlow) => "Klarna approved your payment, but your order is not confirmed yet. You need not pay again: you will get an e-mail as soon as it is confirmed.",
        (Lang::De, PaymentDeclined) => "Zahlung abgelehnt",
        (_, PaymentDeclined) => "Payment declined",
        (Lang::De, CheckAgain) => "Erneut prüfen",
        (_, CheckAgain) => "Check again",
        (Lang::De, ReviewRejected) => "Klarna hat die Zahlung nach der Prüfung abgelehnt. Die Bestellung wird nicht versandt und nichts wird berechnet.",
        (_, ReviewRejected) => "After its review, Klarna declined this payment. The order will not ship and you will not be charged.",
        (Lang::De, ChooseLegalForm) => "Bitte wählen …",
        (_, ChooseLegalForm) => "Choose…",
        (Lang::De, Company) => "Firma",
        (_, Company) => "Company",
        (Lang::De, ForExample) => "z. B.",
        (_, ForExample) => "e.g.",
        (Lang::De, KlarnaPaused) => "Klarna wird gerade in einer anderen Kasse auf dieser Seite verwendet.",
        (_, KlarnaPaused) => "Klarna is in use in another checkout on this page.",
        (Lang::De, UseKlarnaHere) => "Klarna hier verwenden",
        (_, UseKlarnaHere) => "Use Klarna here",
    }
}

/// Label of an address field.
pub fn field_label(lang: Lang, wire_name: &str) -> &'static str {
    match (lang, wire_name) {
        (Lang::De, "given_name") => "Vorname",
        (_, "given_name") => "First name",
        (Lang::De, "family_name") => "Nachname",
        (_, "family_name") => "Last name",
        (Lang::De, "email") => "E-Mail",
        (_, "email") => "E-mail",
        (Lang::De, "phone") => "Telefon",
        (_, "phone") => "Phone",
        (Lang::De, "street_address") => "Straße und Hausnummer",
        (_, "street_address") => "Street and number",
        (Lang::De, "street_address2") => "Adresszusatz",
        (_, "street_address2") => "Address line 2",
        (Lang::De, "postal_code") => "Postleitzahl",
        (_, "postal_code") => "Postal code",
        (Lang::De, "city") => "Ort",
        (_, "city") => "City",
        (Lang::De, "region") => "Bundesland / Staat",
        (_, "region") => "State / region",
        (Lang::De, "country") => "Land",
        (_, "country") => "Country",
        (Lang::De, "organization_name") => "Firmenname",
        (_, "organization_name") => "Company name",
        (Lang::De, "organization_entity_type") => "Rechtsform",
        (_, "organization_entity_type") => "Legal form",
        (Lang::De, "organization_registration_id") => "Registernummer",
        (_, "organization_registration_id") => "Registration number",
        (Lang::De, "vat_id") => "USt-IdNr.",
        (_, "vat_id") => "VAT ID",
        _ => "",
    }
}

/// A field error as a sentence.
pub fn field_message(lang: Lang, error: &FieldError) -> String {
    if lang == Lang::En {
        return error.message();
    }
    match &error.problem {
        FieldProblem::Required => "Bitte ausfüllen.".into(),
        FieldProblem::TooLong { max } => format!("Höchstens {max} Zeichen."),
        FieldProblem::TooShort => "Mindestens zwei Zeichen.".into(),
        FieldProblem::OnlyDigits => "Ein Name darf nicht nur aus Ziffern bestehen.".into(),
        FieldProblem::InvalidCharacters => "Nur Buchstaben, Leerzeichen und - ' . erlaubt.".into(),
        FieldProblem::InvalidStreetCharacters => {
            r#"Nur Buchstaben, Ziffern, Leerzeichen und - ' ´ ` " , . : ; # & / ( ) + @ ° º ª _ \ erlaubt."#.into()
        }
        FieldProblem::InvalidEmail => {
            "Bitte eine E-Mail-Adresse wie name@example.com angeben.".into()
        }
        FieldProblem::InvalidPhone => {
            "Bitte eine Telefonnummer aus Ziffern, Leerzeichen und + angeben.".into()
        }
        FieldProblem::InvalidPostalCode => {
            "Diese Postleitzahl gibt es im gewählten Land nicht.".into()
        }
        FieldProblem::UnsupportedCountry => "Klarna ist für dieses Land nicht verfügbar.".into(),
        FieldProblem::InvalidRegistrationId => {
            "Bitte die Registernummer so angeben, wie sie im Register des Rechnungslandes steht.".into()
        }
        FieldProblem::InvalidVatId => {
            "Bitte eine USt-IdNr. des Rechnungslandes angeben, z. B. DE123456789."
                .into()
        }
        FieldProblem::RejectedByKlarna => t(lang, Text::KlarnaFieldRejected).into(),
        FieldProblem::Invalid => "Bitte prüfen Sie diesen Wert.".into(),
        FieldProblem::NotFound => "Nicht gefunden.".into(),
    }
}

/// A legal form as the shopper knows it, with the German form it stands for.
pub fn legal_form_label(lang: Lang, kind: OrganizationEntityType) -> &'static str {
    use OrganizationEntityType::*;
    let de = lang == Lang::De;
    match kind {
        LimitedCompany if de => "Gesellschaft mit beschränkter Haftung (GmbH)",
        LimitedCompany => "Limited company (GmbH, Ltd, AB)",
        PublicLimitedCompany if de => "Aktiengesellschaft (AG)",
        PublicLimitedCompany => "Public limited company (AG, plc)",
        EntrepreneurialCompany if de => "Unternehmergesellschaft (UG haftungsbeschränkt)",
        EntrepreneurialCompany => "Entrepreneurial company (UG)",
        LimitedPartnershipLimitedCompany if de => "GmbH & Co. KG",
        LimitedPartnershipLimitedCompany => {
            "Limited partnership with a limited company (GmbH & Co. KG)"
        }
        LimitedPartnership if de => "Kommanditgesellschaft (KG)",
        LimitedPartnership => "Limited partnership (KG)",
        GeneralPartnership if de => "Offene Handelsgesellschaft (OHG)",
        GeneralPartnership => "General partnership (OHG)",
        RegisteredSoleTrader if de => "Eingetragener Kaufmann (e. K.)",
        RegisteredSoleTrader => "Registered sole trader (e. K.)",
        SoleTrader if de => "Einzelunternehmen",
        SoleTrader => "Sole trader",
        CivilLawPartnership if de => "Gesellschaft bürgerlichen Rechts (GbR)",
        CivilLawPartnership => "Civil-law partnership (GbR)",
        PublicInstitution if de => "Öffentliche Einrichtung",
        PublicInstitution => "Public institution",
        Other if de => "Sonstige",
        Other => "Other",
    }
}
