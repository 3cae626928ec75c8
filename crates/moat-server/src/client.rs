//! The client side: `moat scan --server URL` submits its report to a running server.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: not an http(s) URL")]
    BadUrl { url: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error(transparent)]
    Ca(#[from] crate::tls::TlsError),
}

/// The system's CA bundle (Debian's, or `$SSL_CERT_FILE`), when there is one.
fn system_roots() -> Vec<ureq::tls::Certificate<'static>> {
    let candidates = std::env::var_os("SSL_CERT_FILE")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(
            [
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/cert.pem",
            ]
            .map(std::path::PathBuf::from),
        );
    for p in candidates {
        if let Ok(certs) = crate::tls::read_certs(&p) {
            return certs
                .into_iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                .collect();
        }
    }
    Vec::new()
}

/// The roots a client trusts: `ca`'s certificates and the system's (without `ca`: ureq's
/// default, Mozilla's roots).
fn root_certs(ca: Option<&Path>) -> Result<ureq::tls::RootCerts, ClientError> {
    let Some(ca) = ca else {
        return Ok(ureq::tls::RootCerts::WebPki);
    };
    let mut roots: Vec<ureq::tls::Certificate<'static>> = crate::tls::read_certs(ca)?
        .into_iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    roots.extend(system_roots());
    Ok(ureq::tls::RootCerts::new_with_certs(&roots))
}

/// What the server said about a submission.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Submitted {
    pub id: i64,
    #[serde(default)]
    pub image: serde_json::Value,
}

/// POSTs a moat JSON report (or inventory, or SBOM) to `server`'s `/api/v1/reports`.
/// `ca`: a PEM file of CA certificates trusted for `https://` besides the system's roots.
pub fn submit(
    server: &str,
    token: &str,
    labels: &BTreeMap<String, String>,
    body: &[u8],
    timeout: Duration,
    ca: Option<&Path>,
) -> Result<Submitted, ClientError> {
    let base = server.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(ClientError::BadUrl {
            url: server.to_string(),
        });
    }
    let mut url = format!("{base}/api/v1/reports");
    if !labels.is_empty() {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        url.push_str("?labels=");
        url.push_str(&percent_encode(&l.join(",")));
    }
    let err = |message: String| ClientError::Http {
        url: url.clone(),
        message,
    };
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(root_certs(ca)?)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut resp = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Authorization", &format!("Bearer {token}"))
        .send(body)
        .map_err(|e| err(e.to_string()))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| err(e.to_string()))?;
    if status != 201 {
        let msg = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| text.chars().take(200).collect());
        return Err(err(format!("HTTP {status}: {msg}")));
    }
    serde_json::from_str(&text).map_err(|e| err(format!("unreadable answer: {e}")))
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'=' | b',') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
