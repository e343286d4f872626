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

async fn open_store(config: &Config) -> anyhow::Result<crate::store::Store> {
    let store = crate::store::Store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    Ok(store)
}

async fn user_id(store: &crate::store::Store, login: &str) -> anyhow::Result<String> {
    Ok(store
        .user_by_name(login)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user named '{login}'"))?
        .id)
}

/// `brigade refresh-token-create USER`: prints the new token (only this once).
pub async fn refresh_token_create(
    config: Config,
    user: &str,
    description: &str,
    json: bool,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let id = user_id(&store, user).await?;
    let (row, token) = crate::ops::issue_refresh_token(&store, &id, description)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if json {
        println!(
            "{}",
            serde_json::json!({"id": row.id, "token": token, "description": row.description})
        );
    } else {
        println!("{token}");
        eprintln!(
            "refresh token {} for {user} (keep it secret: it is not shown again)",
            row.id
        );
    }
    Ok(())
}

pub async fn refresh_token_list(config: Config, user: &str, json: bool) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let id = user_id(&store, user).await?;
    let rows = store.refresh_tokens(&id).await?;
    if json {
        let out: Vec<serde_json::Value> = rows
            .iter()
            .map(|t| {
                serde_json::json!({"id": t.id, "description": t.description,
                "created_at": t.created_at.to_rfc3339(), "revoked": t.revoked_at.is_some()})
            })
            .collect();
        println!("{}", serde_json::Value::Array(out));
    } else {
        for t in rows {
            let state = if t.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            };
            println!(
                "{}\t{}\t{}\t{}",
                t.id,
                t.created_at.to_rfc3339(),
                state,
                t.description
            );
        }
    }
    Ok(())
}

pub async fn refresh_token_revoke(
    config: Config,
    user: &str,
    token_id: &str,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let id = user_id(&store, user).await?;
    anyhow::ensure!(
        store.revoke_token(&id, token_id).await?,
        "no active refresh token {token_id} for {user}"
    );
    println!("revoked {token_id}");
    Ok(())
}
