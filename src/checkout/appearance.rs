//! Klarna's widget in the checkout's colours: read off the rendered theme (the preset, or the
//! storefront's `--kc-*` variables on any ancestor) and sent with the session, so the server
//! can give Klarna the same `options`. Klarna takes colours only as `#RRGGBB`; anything the
//! browser cannot resolve to an opaque colour is left out, and Klarna keeps its own.

use klarna::WidgetOptions;
use wasm_bindgen::JsCast;

/// The colours of the checkout rendered at `root`.
pub fn widget_options(root: &web_sys::HtmlElement) -> Option<WidgetOptions> {
    let window = web_sys::window()?;
    let document = window.document()?;
    // One probe element under the root resolves each private variable to `rgb(…)`.
    let probe: web_sys::HtmlElement = document.create_element("span").ok()?.unchecked_into();
    let _ = probe.set_attribute("hidden", "");
    root.append_child(&probe).ok()?;
    let color = |variable: &str| -> Option<String> {
        let _ = probe
            .style()
            .set_property("color", &format!("var({variable})"));
        let value = window
            .get_computed_style(&probe)
            .ok()??
            .get_property_value("color")
            .ok()?;
        hex(&value)
    };
    let options = WidgetOptions {
        color_border: color("--_kc-field-border"),
        color_border_selected: color("--_kc-accent"),
        color_details: color("--_kc-muted"),
        color_text: color("--_kc-text"),
        radius_border: window
            .get_computed_style(root)
            .ok()
            .flatten()
            .and_then(|s| s.get_property_value("--_kc-radius").ok())
            .map(|r| r.trim().to_string())
            .filter(|r| klarna::widget::is_radius(r)),
    };
    probe.remove();
    // Nothing resolved (not in a rendered page): Klarna keeps its own look.
    (options != WidgetOptions::default()).then_some(options)
}

/// `rgb(1, 2, 3)` → `#010203`; a translucent or unknown colour → `None`.
pub fn hex(computed: &str) -> Option<String> {
    let inner = computed.trim().strip_prefix("rgb(")?.strip_suffix(')')?;
    let parts: Vec<u8> = inner
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    match parts[..] {
        [r, g, b] => Some(format!("#{r:02X}{g:02X}{b:02X}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn opaque_rgb_only() {
        assert_eq!(hex("rgb(1, 2, 3)").as_deref(), Some("#010203"));
        assert_eq!(hex("rgb(255, 255, 255)").as_deref(), Some("#FFFFFF"));
        assert_eq!(hex("rgba(1, 2, 3, 0.5)"), None);
        assert_eq!(hex("red"), None);
        assert_eq!(hex("rgb(300, 0, 0)"), None);
    }
}
