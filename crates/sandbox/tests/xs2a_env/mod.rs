//! The XS2A emulator's test helpers, shared by the XS2A test files: a sandbox served over HTTP
//! on a fixed day, the REST calls a server makes (`Authorization: Token`) and the launcher
//! overlay's steps (`/xs2a/app/{client_token}`).
#![allow(dead_code)]

use sandbox::xs2a::XS2A_API_TOKEN;
use sandbox::Sandbox;
use serde_json::{json, Value};

/// 2026-06-15T10:00:00Z: "today" on the sandbox clock in these tests.
pub const JUNE_15: i64 = 1_781_517_600;

pub struct Env {
    pub base: String,
    pub http: reqwest::Client,
}

pub async fn serve(app: axum::Router) -> Env {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Env {
        base: format!("http://{addr}/sandbox"),
        http: reqwest::Client::new(),
    }
}

/// A sandbox whose clock reads [`JUNE_15`], set the way a test driving it over HTTP would.
pub async fn spawn() -> Env {
    let env =
        serve(axum::Router::new().nest("/sandbox", sandbox::router(Sandbox::default()))).await;
    let (status, now) = env
        .send(
            reqwest::Method::POST,
            "/_control/clock",
            None,
            Some(json!({"set": JUNE_15})),
        )
        .await;
    assert_eq!(status, 200, "{now}");
    let now = now["now"].as_i64().expect("now");
    assert!((JUNE_15..JUNE_15 + 60).contains(&now), "{now}");
    env
}

pub const PSU: &str = r#"{"user_agent": "Mozilla/5.0 (test)", "ip_address": "203.0.113.7"}"#;

pub fn psu() -> Value {
    serde_json::from_str(PSU).expect("psu")
}

impl Env {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Token {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.send(method, path, Some(XS2A_API_TOKEN), body).await
    }

    /// A browser-side step of the test bank's dialog (no API token, like Klarna's Auth API).
    pub async fn app(&self, token: &str, action: &str, body: Value) -> (u16, Value) {
        let path = if action.is_empty() {
            format!("/xs2a/app/{token}")
        } else {
            format!("/xs2a/app/{token}/{action}")
        };
        let method = if action.is_empty() {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        let body = (!action.is_empty()).then_some(body);
        self.send(method, &path, None, body).await
    }

    pub async fn advance(&self, secs: i64) {
        let (status, _) = self
            .send(
                reqwest::Method::POST,
                "/_control/clock",
                None,
                Some(json!({"advance_secs": secs})),
            )
            .await;
        assert_eq!(status, 200);
    }

    pub async fn open_sessions(&self) -> i64 {
        self.open_sessions_listed().await["open"]
            .as_i64()
            .expect("open")
    }

    /// The stand-in for `xs2a-app-launcher.js`, as a page loads it.
    pub async fn launcher(&self) -> reqwest::Response {
        self.http
            .get(format!(
                "{}/xs2a/app-launcher/v0/xs2a-app-launcher.js",
                self.base
            ))
            .send()
            .await
            .expect("launcher")
    }

    /// `{"open": N, "sessions": [ids]}` from the control endpoint.
    pub async fn open_sessions_listed(&self) -> Value {
        let (status, body) = self
            .send(
                reqwest::Method::GET,
                "/_control/xs2a/open-sessions",
                None,
                None,
            )
            .await;
        assert_eq!(status, 200);
        body
    }

    pub async fn session(&self, scope: Option<Value>) -> Value {
        self.session_in("en", scope).await
    }

    pub async fn session_in(&self, language: &str, scope: Option<Value>) -> Value {
        let mut body = json!({"psu": psu(), "language": language});
        if let Some(s) = scope {
            body["consent_scope"] = s;
        }
        let (status, body) = self.api("PUT", "/xs2a/v1/sessions", Some(body)).await;
        assert_eq!(status, 201, "{body}");
        body["data"].clone()
    }

    pub async fn flow(&self, session: &Value, kind: &str, body: Value) -> Value {
        let url = session["flows"][kind].as_str().expect("flow url");
        let (status, body) = self.api("PUT", url, Some(body)).await;
        assert_eq!(status, 201, "{body}");
        body["data"].clone()
    }

    /// Country DE → Demo Bank → login → TAN, as the overlay does.
    pub async fn login(&self, token: &str, username: &str, password: &str) -> Value {
        let (s, v) = self.app(token, "", Value::Null).await;
        assert_eq!(s, 200, "{v}");
        if v["step"] == "country" {
            let (s, v) = self
                .app(token, "country", json!({"country_code": "DE"}))
                .await;
            assert_eq!((s, v["step"].as_str()), (200, Some("bank")), "{v}");
            let (s, v) = self
                .app(token, "bank", json!({"bank_code": "88888888"}))
                .await;
            assert_eq!((s, v["step"].as_str()), (200, Some("login")), "{v}");
        }
        let (s, v) = self
            .app(
                token,
                "login",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    pub async fn link(&self, session: &Value, kind: &str, body: Value) -> Value {
        let flow = self.flow(session, kind, body).await;
        let token = flow["client_token"].as_str().expect("client token");
        let v = self.login(token, "embedded", "12345").await;
        assert_eq!(v["step"], "otp", "{v}");
        let (s, v) = self.app(token, "otp", json!({"otp": "12345"})).await;
        assert_eq!(
            (s, v["step"].as_str(), v["state"].as_str()),
            (200, Some("finished"), Some("FINISHED"))
        );
        let (s, v) = self
            .api("GET", flow["self"].as_str().expect("self"), None)
            .await;
        assert_eq!(s, 200);
        v["data"].clone()
    }

    pub async fn flow_state(&self, flow: &Value) -> Value {
        let (s, v) = self
            .api("GET", flow["self"].as_str().expect("self"), None)
            .await;
        assert_eq!(s, 200, "{v}");
        v["data"].clone()
    }

    pub async fn consent(&self, session: &Value) -> Value {
        let (s, v) = self
            .api(
                "POST",
                session["consent"].as_str().expect("consent url"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["data"].clone()
    }
}

/// [`JUNE_15`] shifted by `days`, as `YYYY-MM-DD`.
pub fn date(days: i64) -> String {
    klarna::date::Date::from_unix(JUNE_15)
        .add_days(days)
        .to_string()
}
