//! Where things are on one bank page, when several share a page: its element ids carry its
//! own prefix (`kcb2-user`), so labels and `aria-describedby` never point into another one,
//! and focus moves only to elements under its own root.

use super::Ctx;
use leptos::prelude::*;

thread_local! {
    static INSTANCES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The next bank page's number (1, 2, …).
pub(super) fn next_uid() -> u32 {
    INSTANCES.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

impl Ctx {
    /// The id of this page's element `name` (`kcb2-start_date`).
    pub fn id(&self, name: &str) -> String {
        format!("kcb{}-{name}", self.uid)
    }

    /// An id of this page no other element has had (`kcb2-pending-help-3`), for what is
    /// shown more than once.
    pub(super) fn fresh_id(&self, name: &str) -> String {
        self.serial.update_value(|n| *n += 1);
        self.id(&format!("{name}-{}", self.serial.get_value()))
    }
}

/// The selector of this page's field with the wire name `field` (`data-kc-field`, as the
/// checkout's fields carry it).
pub(super) fn field_css(field: &str) -> String {
    format!("[data-kc-field=\"{field}\"]")
}

/// A field name from the server is only put into a selector when it is one: letters and `_`.
pub(super) fn is_field_name(field: &str) -> bool {
    !field.is_empty() && field.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// Moves focus to `css` under this page's root once this update is on the page (the element
/// may only now appear or be enabled again), so keyboard and screen-reader users land where
/// the news is; never to another bank page's element.
pub(super) fn focus_soon(ctx: Ctx, css: &str) {
    let css = css.to_string();
    request_animation_frame(move || {
        let found = ctx
            .root
            .try_get_untracked()
            .flatten()
            .and_then(|root| root.query_selector(&css).ok().flatten());
        if let Some(el) = found {
            use wasm_bindgen::JsCast;
            if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::is_field_name;

    #[test]
    fn only_wire_names_go_into_a_selector() {
        assert!(is_field_name("start_date"));
        assert!(is_field_name("user"));
        assert!(!is_field_name(""));
        assert!(!is_field_name("user\"], body [x=\""));
        assert!(!is_field_name("start-date"));
    }
}
