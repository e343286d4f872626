//! The repository layer: one `Store` over SQLite (the embedded default) or PostgreSQL,
//! chosen by the URL scheme. Both backends run the same SQL (the common subset, `$N`
//! placeholders); the `on_db!` macro expands one query body once per backend. Every
//! API write runs in one transaction inside a `Store` method named for what it does.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

pub mod acls;
pub mod clients;
pub mod compliance;
pub mod cookbooks;
pub mod groups;
pub mod keys;
pub mod objects;
pub mod org_users;
pub mod orgs;
pub mod policies;
pub mod profiles;
pub mod reports;
pub mod sandboxes;
pub mod search;
pub mod users;

/// Runs `$body` with `$c` bound to the backend's pool or transaction connection.
/// The body is compiled once per backend, so the same SQL text serves both.
macro_rules! on_db {
    ($target:expr, $c:ident => $body:expr) => {
        match $target {
            $crate::store::Db::Sqlite($c) => $body,
            $crate::store::Db::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_db;

/// Runs a statement on either backend and returns the number of rows it affected.
macro_rules! execute {
    ($target:expr, $query:expr) => {
        match $target {
            $crate::store::Db::Sqlite(c) => $query.execute(c).await.map(|r| r.rows_affected()),
            $crate::store::Db::Postgres(c) => $query.execute(c).await.map(|r| r.rows_affected()),
        }
    };
}
pub(crate) use execute;

/// A backend-tagged handle: a pool for reads, or a transaction for writes.
#[derive(Clone)]
pub enum Db<S, P> {
    Sqlite(S),
    Postgres(P),
}

pub type Tx = Db<Transaction<'static, Sqlite>, Transaction<'static, Postgres>>;

impl Tx {
    /// Borrows the transaction's connection for one query.
    pub fn conn(&mut self) -> Db<&mut sqlx::SqliteConnection, &mut sqlx::PgConnection> {
        match self {
            Db::Sqlite(t) => Db::Sqlite(&mut **t),
            Db::Postgres(t) => Db::Postgres(&mut **t),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        on_db!(self, t => t.commit().await)
    }
}

#[derive(Clone)]
pub struct Store {
    pool: Db<SqlitePool, PgPool>,
}

/// Creates a new SQLite database file 0600 before SQLite does (it would honour the umask);
/// the path of the file when it was created here. In-memory databases have no file.
fn create_private_sqlite_file(url: &str, path: &Path) -> anyhow::Result<Option<PathBuf>> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let created = crate::private_fs::create_new_empty(path)
        .with_context(|| format!("creating SQLite database {}", path.display()))?;
    Ok(created.then(|| path.to_path_buf()))
}

/// SQLite gives the `-wal` and `-shm` files the database file's mode; made sure of here
/// for a database this process created.
fn restrict_sqlite_side_files(db: &Path) -> anyhow::Result<()> {
    for suffix in ["-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        if side.exists() {
            crate::private_fs::restrict(&side)
                .with_context(|| format!("restricting {}", side.display()))?;
        }
    }
    Ok(())
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), creating the SQLite file.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).context("invalid PostgreSQL URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .context("connecting to PostgreSQL")?;
            Db::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .context("invalid SQLite URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Reads of large documents (search rows) come straight from the mapping
                // instead of a read call per page.
                .pragma("mmap_size", "1073741824");
            let created = create_private_sqlite_file(url, opts.get_filename())?;
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await
                .context("opening SQLite database")?;
            if let Some(db) = created {
                restrict_sqlite_side_files(&db)?;
            }
            Db::Sqlite(pool)
        } else {
            anyhow::bail!("unsupported database URL scheme (use sqlite:// or postgres://)");
        };
        Ok(Store { pool })
    }

    /// Applies the embedded migrations of the backend in use.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.pool {
            Db::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match &self.pool {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgresql",
        }
    }

    pub(crate) fn pool(&self) -> &Db<SqlitePool, PgPool> {
        &self.pool
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match &self.pool {
            // A write transaction takes SQLite's write lock up front: a deferred one that
            // reads and then writes fails with "busy" when another writer got in between.
            Db::Sqlite(p) => Db::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Db::Postgres(p.begin().await?),
        })
    }

    /// A cheap round trip, for `/_status` and `brigade healthcheck`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(&self.pool, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))
    }

    pub async fn close(&self) {
        on_db!(&self.pool, p => p.close().await)
    }
}

/// A fresh opaque id for a stored entity (also its authorization id).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    // Whole microseconds keep SQLite's text and PostgreSQL's timestamptz round trips equal.
    let n = chrono::Utc::now();
    n - chrono::Duration::nanoseconds((n.timestamp_subsec_nanos() % 1000) as i64)
}
