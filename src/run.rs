//! The subcommands' bodies, kept out of `main.rs` so they are testable.

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::Config;

pub async fn serve(config: Config, bootstrap_org: Option<String>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(config = ?config, "starting");
    let state = crate::init_state(config).await?;
    tracing::info!(backend = state.store.backend_name(), %addr, "listening");
    if let Some(org) = bootstrap_org {
        let tls = state.config.tls.self_signed || state.config.tls.cert.is_some();
        let base = if state.config.external_url.is_empty() {
            format!("{}://{addr}", if tls { "https" } else { "http" })
        } else {
            state.config.external_url.trim_end_matches('/').to_string()
        };
        crate::bootstrap::bootstrap_org(&state.store, &state.config, &org, &base).await?;
    }
    crate::blobs::sweep::spawn(
        state.store.clone(),
        state.blobs.clone(),
        std::time::Duration::from_secs(600),
        std::time::Duration::from_secs(3600),
    );
    crate::serve(listener, state, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    crate::private_fs::prepare_data_dir(&config.data_dir)?;
    let store = crate::store::Store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    println!("migrations applied ({})", store.backend_name());
    Ok(())
}

/// Rebuilds the search index of the data directory from the database.
pub async fn reindex(config: Config) -> anyhow::Result<()> {
    crate::private_fs::prepare_data_dir(&config.data_dir)?;
    let store = crate::store::Store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    let n = crate::search::reindex(&config, &store).await?;
    println!("reindexed {n} objects");
    Ok(())
}

/// Database round trip, then the listener's `/_status` (plain HTTP) or a TCP connect (TLS).
pub async fn healthcheck(config: Config) -> anyhow::Result<()> {
    let store = crate::store::Store::connect(&config.effective_database_url()).await?;
    store.ping().await.context("database check failed")?;
    let addr = config
        .listen
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    let mut conn = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(&addr),
    )
    .await
    .context("server did not answer in time")?
    .with_context(|| format!("connecting to {addr}"))?;
    if config.tls.cert.is_none() && !config.tls.self_signed {
        conn.write_all(format!("GET /_status HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await?;
        let mut buf = vec![0u8; 64];
        let n = conn.read(&mut buf).await?;
        let line = String::from_utf8_lossy(&buf[..n]);
        anyhow::ensure!(
            line.starts_with("HTTP/1.0 200") || line.starts_with("HTTP/1.1 200"),
            "server status: {}",
            line.lines().next().unwrap_or("")
        );
    }
    println!("ok");
    Ok(())
}
