//! The test control that makes the launcher stand-in end its flows the undocumented ways
//! (`/_control/xs2a/launcher-endings`): it refuses what it does not know naming the field, the
//! dialog's state carries the choice to `xs2a-app-launcher.js`, the script acts on it, and a
//! reset goes back to the documented endings.

mod common;

use sandbox::xs2a::XS2A_API_TOKEN;
use serde_json::{json, Value};

async fn send(env: &common::Env, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = env
        .http
        .request(method.parse().unwrap(), format!("{}{path}", env.base))
        .header("authorization", format!("Token {XS2A_API_TOKEN}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The client token of a fresh accounts flow.
async fn client_token(env: &common::Env) -> String {
    let psu = json!({"user_agent": "Mozilla/5.0 (test)", "ip_address": "203.0.113.7"});
    let (s, session) = send(env, "PUT", "/xs2a/v1/sessions", Some(json!({"psu": psu}))).await;
    assert_eq!(s, 201, "{session}");
    let url = session["data"]["flows"]["accounts"].as_str().unwrap();
    let (s, flow) = send(env, "PUT", url, Some(json!({}))).await;
    assert_eq!(s, 201, "{flow}");
    flow["data"]["client_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_launchers_endings_are_chosen_by_a_test_and_reach_the_dialog() {
    let env = common::spawn().await;
    let control = "/_control/xs2a/launcher-endings";
    let (s, v) = send(&env, "GET", control, None).await;
    assert_eq!((s, v), (200, json!({"endings": "as_documented"})));
    for bad in [
        json!({"endings": "sometimes"}),
        json!({"endings": 3}),
        json!({}),
    ] {
        let (s, v) = send(&env, "POST", control, Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert_eq!(v["error"]["code"], "VALIDATION", "{v}");
    }
    let (s, v) = send(&env, "POST", control, Some(json!({"endings": "sometimes"}))).await;
    assert_eq!(
        (s, v["error"]["errors"][0]["location"].as_str()),
        (400, Some("endings"))
    );
    for mode in [
        "close_first",
        "finish_unfinished",
        "error_without_argument",
        "as_documented",
    ] {
        let (s, v) = send(&env, "POST", control, Some(json!({"endings": mode}))).await;
        assert_eq!((s, v), (200, json!({"endings": mode})));
        let token = client_token(&env).await;
        let (s, view) = send(&env, "GET", &format!("/xs2a/app/{token}"), None).await;
        assert_eq!(s, 200, "{view}");
        assert_eq!(view["launcher_endings"], mode, "{view}");
    }
    send(
        &env,
        "POST",
        control,
        Some(json!({"endings": "close_first"})),
    )
    .await;
    let (s, _) = send(&env, "POST", "/_control/xs2a/reset", None).await;
    assert_eq!(s, 204);
    let (_, v) = send(&env, "GET", control, None).await;
    assert_eq!(v, json!({"endings": "as_documented"}));
}

#[tokio::test]
async fn the_launcher_script_knows_every_ending_the_control_offers() {
    let env = common::spawn().await;
    let js = env
        .http
        .get(format!(
            "{}/xs2a/app-launcher/v0/xs2a-app-launcher.js",
            env.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for mode in ["close_first", "finish_unfinished", "error_without_argument"] {
        assert!(js.contains(&format!("\"{mode}\"")), "{mode}");
    }
    // onError without an argument: the call passes none.
    assert!(js.contains("fire(a.options, \"onError\");"));
}
