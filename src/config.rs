//! Configuration: built-in defaults, then `config/brigade.toml` (or `--config FILE`), then
//! `BRIGADE_*` environment variables (`__` separates nested keys, e.g.
//! `BRIGADE_TLS__CERT`), then command-line flags. Secrets are redacted in `Debug`.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// The commented default configuration, printed by `brigade print-config`.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../config/brigade.toml");

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the main listener.
    pub listen: String,
    /// Folder for the SQLite database, keys, blobs, index and generated certificates.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://<data_dir>/brigade.db`.
    pub database_url: String,
    /// Base URL used in URLs the server hands out; empty means the request's Host.
    pub external_url: String,
    /// Organization that serves requests made without `/organizations/ORG`.
    pub default_org: String,
    pub tls: TlsConfig,
    pub auth: AuthConfig,
    pub limits: Limits,
    pub superuser: SuperuserConfig,
    pub reporting: ReportingConfig,
    pub license: LicenseConfig,
    pub search: SearchConfig,
    pub compliance: ComplianceConfig,
    /// Log format: `text` or `json`.
    pub log_format: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Generate a self-signed certificate into the data dir once, and serve HTTPS with it.
    pub self_signed: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Allowed difference between a request's X-Ops-Timestamp and the server clock.
    pub clock_skew_secs: i64,
    /// The web UI's key (PEM, private or public). Requests with `X-Ops-Request-Source: web`
    /// are signed with it on behalf of the user named in `X-Ops-UserId`, as chef-manage
    /// does; without it such requests are refused.
    pub webui_key_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest JSON request body (erchef's `max_request_size`).
    pub max_json_bytes: usize,
    /// Largest file upload (cookbook files, profiles).
    pub max_file_bytes: usize,
    /// How long the cookbook dependency solver may search before answering 412.
    pub depsolver_timeout_ms: u64,
    /// Most entries in a run list (a node's, a role's, each of a role's `env_run_lists`);
    /// longer ones are a 400.
    pub max_run_list_items: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportingConfig {
    /// Runs that started longer ago than this many days are purged; 0 keeps them forever.
    pub retention_days: u32,
    /// How often the purge runs, in seconds.
    pub purge_interval_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Hours the search change log is kept; 0 keeps it forever. A process whose index was
    /// offline for longer rebuilds it from the tables on start.
    pub change_log_retention_hours: u64,
    /// Longest query string (`q`, in bytes, after decoding).
    pub max_query_length: usize,
    /// Most clauses (terms, phrases, ranges) in one query; Solr's `maxBooleanClauses`.
    pub max_clauses: usize,
    /// Most wildcard (`*`, `?`) and fuzzy (`~`) terms in one query: each is expanded over
    /// the index's term dictionary.
    pub max_wildcard_terms: usize,
    /// Most wildcard terms with a wildcard in the field name (`*_ipaddress:10.*`) or,
    /// without a field, at the start (`*foo`): each of those scans every term of the index.
    pub max_wildcard_field_terms: usize,
    /// Most `*` and `?` in one term.
    pub max_wildcards_per_term: usize,
    /// How long one query may run before it is stopped (400).
    pub query_timeout_ms: u64,
}

/// The Compliance API (the former Chef Compliance server).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplianceConfig {
    /// A path under which the Compliance API is served again, alone: InSpec given
    /// `http://HOST:PORT<prefix>` detects a Compliance server there. Empty: `/api` only.
    pub prefix: String,
    /// Lifetime of access tokens, in seconds.
    pub access_token_secs: i64,
    /// Most entries a profile archive may hold.
    pub profile_max_entries: usize,
    /// Most bytes a profile archive may unpack to (a decompression bomb stops there).
    pub profile_max_unpacked_bytes: u64,
}

/// What `GET /license` reports. As on the real server it is informational only: nothing
/// is refused past the count, `limit_exceeded` only tells consoles to show a notice.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LicenseConfig {
    /// Licensed node count (`license['nodes']` on the real server).
    pub nodes: u64,
    pub upgrade_url: String,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SuperuserConfig {
    pub name: String,
    /// A PEM private key file to use for the superuser instead of generating one.
    pub key_file: Option<PathBuf>,
    /// A PEM private key given inline (takes precedence over `key_file`).
    pub key_pem: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8889".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            external_url: String::new(),
            default_org: String::new(),
            tls: TlsConfig::default(),
            auth: AuthConfig::default(),
            limits: Limits::default(),
            superuser: SuperuserConfig::default(),
            reporting: ReportingConfig::default(),
            license: LicenseConfig::default(),
            search: SearchConfig::default(),
            compliance: ComplianceConfig::default(),
            log_format: "text".into(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            clock_skew_secs: 900,
            webui_key_file: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_json_bytes: 2_000_000,
            max_file_bytes: 100 * 1024 * 1024,
            depsolver_timeout_ms: 5_000,
            max_run_list_items: 10_000,
        }
    }
}

impl Default for ReportingConfig {
    fn default() -> Self {
        ReportingConfig {
            retention_days: 90,
            purge_interval_secs: 3600,
        }
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            change_log_retention_hours: 168,
            max_query_length: 16_384,
            max_clauses: 1024,
            max_wildcard_terms: 64,
            max_wildcard_field_terms: 4,
            max_wildcards_per_term: 8,
            query_timeout_ms: 5_000,
        }
    }
}

impl Default for ComplianceConfig {
    fn default() -> Self {
        ComplianceConfig {
            prefix: "/chef-compliance".into(),
            access_token_secs: 12 * 3600,
            profile_max_entries: 10_000,
            profile_max_unpacked_bytes: 100 * 1024 * 1024,
        }
    }
}

impl Default for LicenseConfig {
    fn default() -> Self {
        LicenseConfig {
            nodes: 25,
            upgrade_url: "https://www.chef.io/pricing".into(),
        }
    }
}

impl Default for SuperuserConfig {
    fn default() -> Self {
        SuperuserConfig {
            name: "pivotal".into(),
            key_file: None,
            key_pem: None,
        }
    }
}

impl std::fmt::Debug for SuperuserConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuperuserConfig")
            .field("name", &self.name)
            .field("key_file", &self.key_file)
            .field("key_pem", &self.key_pem.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("external_url", &self.external_url)
            .field("default_org", &self.default_org)
            .field("tls", &self.tls)
            .field("auth", &self.auth)
            .field("limits", &self.limits)
            .field("superuser", &self.superuser)
            .field("reporting", &self.reporting)
            .field("license", &self.license)
            .field("search", &self.search)
            .field("compliance", &self.compliance)
            .field("log_format", &self.log_format)
            .finish()
    }
}

/// Hides the password of a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:<redacted>{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Loads defaults, then the file (the given one must exist; the default one may not),
    /// then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                anyhow::ensure!(path.exists(), "config file {} not found", path.display());
                fig = fig.merge(Toml::file(path));
            }
            None => fig = fig.merge(Toml::file("config/brigade.toml")),
        }
        fig = fig.merge(Env::prefixed("BRIGADE_").split("__"));
        Ok(fig.extract()?)
    }

    /// The database URL in force: the configured one, else SQLite in the data dir.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("brigade.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.data_dir.join("keys")
    }

    /// The search index's folder.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_matches_defaults() {
        let from_file: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(DEFAULT_CONFIG_TOML))
            .extract()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&from_file).unwrap(),
            serde_json::to_value(Config::default()).unwrap()
        );
    }

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:<redacted>@h/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
