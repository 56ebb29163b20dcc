//! JSON between the checkout and the outside, without serde (issue 11): answers of our server
//! (what `JSON.parse` gave) and Klarna's callback results are read field by field through
//! `js_sys::Reflect`, and request bodies and event details are built as plain JS objects.
//! serde-derived decoding cost the shopper's bundle about 32 KB of raw wasm (every struct's
//! visitor, enum visitors, and the float formatting its error messages pull in); these
//! hand-written conversions are a few hundred bytes each. The bank page (`bank-link`) still
//! uses serde for its own types.
//!
//! The rules are those of the serde derive with serde-wasm-bindgen, which this replaces: a
//! required field must be there and of its type, a `#[serde(default)]` field may be missing
//! (not `null`, unless it is an `Option`), an `Option` takes `null` or a missing field as
//! `None`, an enum takes exactly one of its wire names and refuses any other, an integer is a
//! JS number that is a safe integer (`Number.isSafeInteger`). Unknown fields are ignored. One
//! difference, stricter: a list must be a JS array (serde-wasm-bindgen also took any iterable,
//! such as a string); `JSON.parse` never gives anything else.

mod answers;
mod bodies;

pub use bodies::{authorize_data, ToJs};

use js_sys::{Array, Number, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A type read from a JS value. `None`: the value is not one (a field missing or of the wrong
/// type anywhere inside it); the caller treats that as no usable answer.
pub trait FromJs: Sized {
    fn from_js(value: &JsValue) -> Option<Self>;
}

/// Reads `value` as a `T`.
pub fn decode<T: FromJs>(value: &JsValue) -> Option<T> {
    T::from_js(value)
}

/// The fields of a JS object, read by name.
pub struct Fields<'a>(&'a JsValue);

impl<'a> Fields<'a> {
    /// `None` unless `value` is an object (a struct is never a string, number or `null`).
    pub fn of(value: &'a JsValue) -> Option<Fields<'a>> {
        value.is_object().then_some(Fields(value))
    }

    /// The field's value; `None` when it is missing (an `undefined` the object does not have).
    fn get(&self, key: &str) -> Option<JsValue> {
        let key = JsValue::from_str(key);
        let value = Reflect::get(self.0, &key).ok()?;
        if value.is_undefined() && !Reflect::has(self.0, &key).unwrap_or(false) {
            return None;
        }
        Some(value)
    }

    /// A required field.
    pub fn req<T: FromJs>(&self, key: &str) -> Option<T> {
        T::from_js(&self.get(key)?)
    }

    /// A `#[serde(default)]` field: its default when missing, refused when of the wrong type.
    pub fn or_default<T: FromJs + Default>(&self, key: &str) -> Option<T> {
        match self.get(key) {
            None => Some(T::default()),
            Some(value) => T::from_js(&value),
        }
    }
}

impl FromJs for String {
    fn from_js(value: &JsValue) -> Option<String> {
        value.as_string()
    }
}

impl FromJs for bool {
    fn from_js(value: &JsValue) -> Option<bool> {
        value.as_bool()
    }
}

impl FromJs for i64 {
    /// Only a safe integer: `1.5`, `1e300`, `NaN` or `"1"` are no `i64`.
    fn from_js(value: &JsValue) -> Option<i64> {
        Number::is_safe_integer(value).then(|| value.as_f64().unwrap_or_default() as i64)
    }
}

impl FromJs for usize {
    fn from_js(value: &JsValue) -> Option<usize> {
        usize::try_from(i64::from_js(value)?).ok()
    }
}

/// `null` or a missing field is `None`; any other value must be a `T`.
impl<T: FromJs> FromJs for Option<T> {
    fn from_js(value: &JsValue) -> Option<Option<T>> {
        if value.is_null() || value.is_undefined() {
            Some(None)
        } else {
            T::from_js(value).map(Some)
        }
    }
}

impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(value: &JsValue) -> Option<Vec<T>> {
        if !Array::is_array(value) {
            return None;
        }
        value
            .unchecked_ref::<Array>()
            .iter()
            .map(|item| T::from_js(&item))
            .collect()
    }
}

/// The variant whose wire name `value` is, exactly (case included, as serde's derive).
pub fn variant<T: Copy>(value: &JsValue, names: &[(&str, T)]) -> Option<T> {
    let name = value.as_string()?;
    names.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// A plain JS object under construction, for a body or an event's `detail`.
pub struct Obj(Object);

impl Default for Obj {
    fn default() -> Obj {
        Obj::new()
    }
}

impl Obj {
    pub fn new() -> Obj {
        Obj(Object::new())
    }

    /// Sets `key` to `value`.
    pub fn set(self, key: &str, value: &JsValue) -> Obj {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), value);
        self
    }

    pub fn str(self, key: &str, value: &str) -> Obj {
        self.set(key, &JsValue::from_str(value))
    }

    /// An integer as a JS number (amounts are far inside the safe range).
    pub fn int(self, key: &str, value: i64) -> Obj {
        self.set(key, &JsValue::from_f64(value as f64))
    }

    pub fn bool(self, key: &str, value: bool) -> Obj {
        self.set(key, &JsValue::from_bool(value))
    }

    /// `skip_serializing_if = "Option::is_none"`: left out when `None`.
    pub fn some_str(self, key: &str, value: Option<&str>) -> Obj {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    /// `skip_serializing_if = "Option::is_none"` for a nested object.
    pub fn some<T: ToJs>(self, key: &str, value: Option<&T>) -> Obj {
        match value {
            Some(v) => self.set(key, &v.to_js()),
            None => self,
        }
    }

    pub fn js(self) -> JsValue {
        self.0.into()
    }
}

/// A JS array of strings.
pub fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> JsValue {
    items
        .into_iter()
        .map(JsValue::from_str)
        .collect::<Array>()
        .into()
}
