//! The simulator's REST API as a client sees it: log in with the client credentials and
//! call it with the bearer. Tests use it to drive the simulator directly and to read what
//! it serves without spending the daemon's budget.

use genesys_sim::SimHandle;
use serde_json::Value;
use std::time::Duration;

/// The WFM API prefix.
pub const WFM: &str = "/api/v2/workforcemanagement";
/// How long a simulator test waits for any one answer or frame (scaled by the patience
/// multiplier where it is used as a deadline).
pub const T: Duration = Duration::from_secs(3);

/// Logs in with the client credentials and returns the access token.
pub async fn token(sim: &SimHandle) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("token json");
    body["access_token"].as_str().expect("access_token").to_string()
}

/// An authenticated API client.
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    /// Logs in and returns a client.
    pub async fn login(sim: &SimHandle) -> Self {
        Self {
            base: sim.base_url(),
            token: token(sim).await,
            http: reqwest::Client::new(),
        }
    }
    /// GET a path; returns (status, json or Null).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    /// Sends a JSON body with `method`; returns (status, json or Null).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("send");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    /// Creates a channel; returns (id, connectUri).
    pub async fn channel(&self) -> (String, String) {
        let (s, ch) = self
            .send(
                reqwest::Method::POST,
                "/api/v2/notifications/channels",
                &Value::Null,
            )
            .await;
        assert_eq!(s, 200, "{ch}");
        (
            ch["id"].as_str().unwrap().to_string(),
            ch["connectUri"].as_str().unwrap().to_string(),
        )
    }
    /// PUTs a subscription list (no ignoreErrors).
    pub async fn subscribe(&self, channel: &str, topics: &[&str]) -> (u16, Value) {
        let body: Vec<Value> = topics.iter().map(|t| serde_json::json!({"id": t})).collect();
        self.send(
            reqwest::Method::PUT,
            &format!("/api/v2/notifications/channels/{channel}/subscriptions"),
            &Value::Array(body),
        )
        .await
    }
}
