//! Command line: `serve`, `migrate`, `healthcheck`, `reindex`, `print-config`, and the
//! Compliance refresh-token commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, DEFAULT_CONFIG_TOML};

#[derive(Parser, Debug)]
#[command(name = "brigade", version, about = "A drop-in, on-prem Chef server")]
pub struct Cli {
    /// Configuration file (default: config/brigade.toml when present).
    #[arg(long, global = true, env = "BRIGADE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (creating the superuser on an empty database).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(CommonArgs),
    /// Check the database and the running server; exit non-zero when unhealthy.
    Healthcheck(CommonArgs),
    /// Rebuild the search index from the database (stop the server using it first).
    Reindex(CommonArgs),
    /// Print the commented default configuration.
    PrintConfig,
    /// Create a Compliance API refresh token for USER and print it (shown only once).
    RefreshTokenCreate(RefreshTokenArgs),
    /// List USER's refresh tokens (ids, descriptions, dates; never the secrets).
    RefreshTokenList(RefreshTokenArgs),
    /// Revoke USER's refresh token ID (and the access tokens issued from it).
    RefreshTokenRevoke(RefreshTokenRevokeArgs),
}

#[derive(Args, Debug)]
pub struct RefreshTokenArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The user's login.
    pub user: String,
    /// What the token is for (create only).
    #[arg(long, default_value = "created with brigade refresh-token-create")]
    pub description: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RefreshTokenRevokeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The user's login.
    pub user: String,
    /// The token's id (from refresh-token-list).
    pub id: String,
}

#[derive(Args, Debug, Default)]
pub struct CommonArgs {
    /// Address to listen on (default 127.0.0.1:8889).
    #[arg(long)]
    pub listen: Option<String>,
    /// Data directory (default ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://… (default: SQLite in the data directory).
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Base URL for URLs handed to clients.
    #[arg(long)]
    pub external_url: Option<String>,
    /// Organization serving requests without /organizations/ORG.
    #[arg(long)]
    pub default_org: Option<String>,
    /// PEM certificate for HTTPS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate generated into the data directory.
    #[arg(long)]
    pub tls_self_signed: bool,
    /// Create this organization, a user `admin` and the validator on first start.
    #[arg(long)]
    pub bootstrap_org: Option<String>,
}

impl CommonArgs {
    pub fn apply(&self, c: &mut Config) {
        if let Some(v) = &self.listen {
            c.listen = v.clone();
        }
        if let Some(v) = &self.data_dir {
            c.data_dir = v.clone();
        }
        if let Some(v) = &self.database_url {
            c.database_url = v.clone();
        }
    }
}

impl ServeArgs {
    pub fn apply(&self, c: &mut Config) {
        self.common.apply(c);
        if let Some(v) = &self.external_url {
            c.external_url = v.clone();
        }
        if let Some(v) = &self.default_org {
            c.default_org = v.clone();
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            c.tls.cert = Some(cert.clone());
            c.tls.key = Some(key.clone());
        }
        if self.tls_self_signed {
            c.tls.self_signed = true;
        }
    }
}

pub fn print_config() {
    print!("{DEFAULT_CONFIG_TOML}");
}
