//! The look of Klarna's widget: the `options` of a payment session (contract §1.2; seed 004
//! lists them). The browser reads them off the checkout's own theme, so Klarna's widget and our
//! form look like one; the server checks them before Klarna sees them, and the sandbox refuses
//! what Klarna would (colours only as `#RRGGBB`).

use crate::address::{FieldError, FieldProblem};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WidgetOptions {
    /// Borders of the widget's fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "#857F79"))]
    pub color_border: Option<String>,
    /// The border of the chosen option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_border_selected: Option<String>,
    /// Secondary text and details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_text: Option<String>,
    /// `0px` to `99px`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "8px"))]
    pub radius_border: Option<String>,
}

/// Klarna's colour pattern, `^#[A-Fa-f0-9]{6}$`.
pub fn is_color(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `0px` … `99px`: what a border radius can sensibly be.
pub fn is_radius(value: &str) -> bool {
    value
        .strip_suffix("px")
        .is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

impl WidgetOptions {
    pub fn colors(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("color_border", &self.color_border),
            ("color_border_selected", &self.color_border_selected),
            ("color_details", &self.color_details),
            ("color_text", &self.color_text),
        ]
    }

    /// Every value that is not what Klarna takes, named under `prefix` (`widget.color_text`).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = self
            .colors()
            .into_iter()
            .filter(|(_, v)| v.as_deref().is_some_and(|v| !is_color(v)))
            .map(|(name, _)| FieldError::new(format!("{prefix}.{name}"), FieldProblem::Invalid))
            .collect();
        if self.radius_border.as_deref().is_some_and(|v| !is_radius(v)) {
            errors.push(FieldError::new(
                format!("{prefix}.radius_border"),
                FieldProblem::Invalid,
            ));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klarnas_pattern_only() {
        assert!(is_color("#FF9900") && is_color("#ff9900"));
        for bad in [
            "FF9900",
            "#FF990",
            "#FF99000",
            "#GG9900",
            "red",
            "rgb(1,2,3)",
            "",
        ] {
            assert!(!is_color(bad), "{bad}");
        }
        assert!(is_radius("5px") && is_radius("0px") && is_radius("16px"));
        for bad in ["5", "px", "100px", "5em", "-1px", "1.5px"] {
            assert!(!is_radius(bad), "{bad}");
        }
    }

    #[test]
    fn names_each_bad_value() {
        let options = WidgetOptions {
            color_text: Some("red".into()),
            color_border: Some("#FF9900".into()),
            radius_border: Some("5em".into()),
            ..WidgetOptions::default()
        };
        let fields: Vec<String> = options
            .validate("widget")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["widget.color_text", "widget.radius_border"]);
    }

    /// Seed 004's example, as Klarna documents it, is what we send.
    #[test]
    fn reads_klarnas_documented_json() {
        let json = r##"{"color_border": "#FF9900", "color_border_selected": "#FF9900",
            "color_details": "#FF9900", "color_text": "#FF9900", "radius_border": "5px"}"##;
        let options: WidgetOptions = serde_json::from_str(json).unwrap();
        assert!(options.validate("options").is_empty());
        assert_eq!(options.radius_border.as_deref(), Some("5px"));
    }
}
