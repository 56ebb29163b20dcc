//! Several instances on one database: a bookkeeper signed in on one instance is signed in on
//! every other (and after a restart), signing out anywhere signs out everywhere, and wrong
//! passwords count across instances. Nothing of it lives in one process.

mod common;

use common::{config, TempDir};
use klarna::api::{ApiError, ErrorCode, SignedIn};
use serde_json::json;
use server::config::{SANDBOX_BOOKKEEPER, SANDBOX_BOOKKEEPER_PASSWORD};

struct Instances {
    _dir: TempDir,
    cfg: server::config::Config,
    http: reqwest::Client,
}

impl Instances {
    async fn new() -> Instances {
        let dir = TempDir::new();
        let cfg = config(&dir).await;
        Instances {
            _dir: dir,
            cfg,
            http: reqwest::Client::new(),
        }
    }

    /// Another instance on the same database file.
    async fn instance(&self) -> server::Running {
        server::spawn(self.cfg.clone()).await.unwrap()
    }

    async fn sign_in(&self, on: &server::Running, password: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/auth/sign-in", on.url()))
            .json(&json!({"user": SANDBOX_BOOKKEEPER, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// `(cookie, csrf token)` of a successful sign-in.
    async fn signed_in(&self, on: &server::Running) -> (String, String) {
        let r = self.sign_in(on, SANDBOX_BOOKKEEPER_PASSWORD).await;
        assert_eq!(r.status(), 200);
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let signed: SignedIn = r.json().await.unwrap();
        (cookie, signed.csrf_token)
    }

    async fn banks(&self, on: &server::Running, cookie: &str) -> u16 {
        self.http
            .get(format!("{}/api/banks", on.url()))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

#[tokio::test]
async fn a_sign_in_holds_on_every_instance_and_after_a_restart() {
    let all = Instances::new().await;
    let a = all.instance().await;
    let b = all.instance().await;
    let (cookie, csrf) = all.signed_in(&a).await;
    assert_eq!(
        all.banks(&b, &cookie).await,
        200,
        "signed in on A, known to B"
    );
    assert_eq!(all.banks(&b, "kc_bookkeeper=forged").await, 401);

    // A restart signs nobody out.
    a.crash();
    let c = all.instance().await;
    assert_eq!(all.banks(&c, &cookie).await, 200);

    // A state-changing call on another instance still needs the session's CSRF token.
    let no_token = all
        .http
        .post(format!("{}/api/auth/sign-out", b.url()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
    let out = all
        .http
        .post(format!("{}/api/auth/sign-out", b.url()))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(
        all.banks(&c, &cookie).await,
        401,
        "signed out on B, out on C too"
    );
}

#[tokio::test]
async fn wrong_passwords_count_across_instances() {
    let all = Instances::new().await;
    let a = all.instance().await;
    let b = all.instance().await;
    for _ in 0..5 {
        assert_eq!(all.sign_in(&a, "wrong").await.status(), 401);
    }
    // The sixth guess goes to the other instance: it waits all the same, even with the right
    // password.
    for password in ["wrong", SANDBOX_BOOKKEEPER_PASSWORD] {
        let r = all.sign_in(&b, password).await;
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("retry-after"));
        let e: ApiError = r.json().await.unwrap();
        assert_eq!(e.code, ErrorCode::TooManyAttempts);
    }
}
