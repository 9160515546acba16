//! HTTPS terminated by this process: the rustls configuration from `TLS_CERT_FILE` and
//! `TLS_KEY_FILE`, HSTS, and the plain-HTTP listener (`HTTP_REDIRECT_ADDR`) that sends
//! every request to the HTTPS site. Behind a reverse proxy that terminates TLS, none of
//! this runs: set `PUBLIC_URL=https://…` (cookies, HSTS and the origin check follow it).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsSettings;

/// Two years, the preload list's minimum; no `includeSubDomains`: the merchant's other
/// hosts are not this server's to decide.
pub const HSTS: &str = "max-age=63072000";

/// Reads the PEM files (each error names the setting and the file) and builds a rustls
/// server configuration on the ring provider (TLS 1.2 and 1.3, HTTP/1.1).
pub fn rustls_config(files: &TlsSettings) -> anyhow::Result<RustlsConfig> {
    let certs = CertificateDer::pem_file_iter(&files.cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            anyhow::anyhow!(
                "TLS_CERT_FILE {}: not a PEM certificate chain ({e})",
                files.cert_file.display()
            )
        })?;
    if certs.is_empty() {
        anyhow::bail!(
            "TLS_CERT_FILE {}: no certificate in the file",
            files.cert_file.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(&files.key_file).map_err(|e| {
        anyhow::anyhow!(
            "TLS_KEY_FILE {}: not a PEM private key ({e})",
            files.key_file.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            anyhow::anyhow!(
                "TLS_CERT_FILE/TLS_KEY_FILE: the key does not fit the certificate ({e})"
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Where plain-HTTP requests are sent: `PUBLIC_URL`'s origin when set, else the
/// request's host name on the HTTPS port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectTarget {
    public: Option<String>,
    https_port: u16,
}

impl RedirectTarget {
    pub fn new(public_url: Option<&url::Url>, https_port: u16) -> RedirectTarget {
        RedirectTarget {
            public: public_url
                .filter(|u| u.scheme() == "https")
                .map(|u| u.origin().ascii_serialization()),
            https_port,
        }
    }

    /// The `https://` URL for a request to `host` (the `Host` header) at `uri`; `None`
    /// when there is no usable host to send the browser to.
    pub fn location(&self, host: Option<&str>, uri: &Uri) -> Option<String> {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        if let Some(public) = &self.public {
            return Some(format!("{public}{path}"));
        }
        let authority: axum::http::uri::Authority = host?.parse().ok()?;
        let name = authority.host();
        Some(if self.https_port == 443 {
            format!("https://{name}{path}")
        } else {
            format!("https://{name}:{}{path}", self.https_port)
        })
    }
}

/// Every request on the plain listener: `308 Permanent Redirect` (the method and body are
/// kept, so a form posted to `http://` is not silently turned into a `GET`).
pub fn redirect_router(target: RedirectTarget) -> Router {
    Router::new().fallback(move |request: Request| {
        let target = target.clone();
        async move { redirect(&target, &request) }
    })
}

fn redirect(target: &RedirectTarget, request: &Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    match target.location(host, request.uri()) {
        Some(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
            "this site is served over HTTPS",
        )
            .into_response(),
        None => (StatusCode::BAD_REQUEST, "a Host header is required").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_path_and_query_and_use_the_https_port() {
        let uri: Uri = "/orders/ord_1?x=1".parse().unwrap();
        let here = RedirectTarget::new(None, 8443);
        assert_eq!(
            here.location(Some("shop.example:8080"), &uri).as_deref(),
            Some("https://shop.example:8443/orders/ord_1?x=1")
        );
        let standard = RedirectTarget::new(None, 443);
        assert_eq!(
            standard.location(Some("shop.example"), &uri).as_deref(),
            Some("https://shop.example/orders/ord_1?x=1")
        );
        assert_eq!(here.location(None, &uri), None);
        assert_eq!(here.location(Some("bad host/"), &uri), None);
        // PUBLIC_URL wins over whatever Host the client sent.
        let public = url::Url::parse("https://shop.example").unwrap();
        let fixed = RedirectTarget::new(Some(&public), 8443);
        assert_eq!(
            fixed.location(Some("evil.example"), &uri).as_deref(),
            Some("https://shop.example/orders/ord_1?x=1")
        );
    }

    #[test]
    fn unreadable_files_name_the_setting() {
        let files = TlsSettings {
            cert_file: "/nonexistent/cert.pem".into(),
            key_file: "/nonexistent/key.pem".into(),
            redirect_addr: None,
        };
        let error = rustls_config(&files).unwrap_err().to_string();
        assert!(error.contains("TLS_CERT_FILE"), "{error}");
    }
}
