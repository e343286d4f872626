//! HTTPS: a configured certificate and key, or a self-signed pair generated once into
//! `<data_dir>/tls/` (so `knife ssl fetch` can trust it). Plain HTTP otherwise.

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;

use crate::config::Config;

pub async fn server_config(config: &Config) -> anyhow::Result<Option<RustlsConfig>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (cert, key) = match (&config.tls.cert, &config.tls.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        (None, None) if config.tls.self_signed => self_signed(config)?,
        (None, None) => return Ok(None),
        _ => anyhow::bail!("tls.cert and tls.key must be given together"),
    };
    let rc = RustlsConfig::from_pem_file(&cert, &key)
        .await
        .with_context(|| format!("loading TLS certificate {}", cert.display()))?;
    Ok(Some(rc))
}

fn self_signed(config: &Config) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let dir = config.data_dir.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    crate::private_fs::create_dir(&dir)?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if let Some(host) = config
        .listen
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
    {
        if !names.contains(&host) && host != "0.0.0.0" && host != "::" {
            names.push(host);
        }
    }
    let generated = rcgen::generate_simple_self_signed(names)?;
    std::fs::write(&cert, generated.cert.pem())?;
    crate::private_fs::write(&key, generated.key_pair.serialize_pem().as_bytes())?;
    tracing::info!(cert = %cert.display(), "generated a self-signed TLS certificate");
    Ok((cert, key))
}
