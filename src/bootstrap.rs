//! First start: the superuser (and its key file), and with `--bootstrap-org` an org, its
//! admin user and validator, with their keys written to `<data_dir>/keys/`. Idempotent:
//! anything that already exists is left as it is.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::json;

use crate::auth::{keygen, signed_header};
use crate::config::Config;
use crate::private_fs;
use crate::store::keys::KeyRow;
use crate::store::users::UserRow;
use crate::store::{new_id, now, Store};

/// Private keys are 0600 from their creation on, in a 0700 folder.
fn write_key(path: &Path, pem: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        private_fs::create_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    private_fs::write(path, pem.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Gives the bootstrap admin a generated password (what `/api/login` and
/// `/authenticate_user` check) and the Compliance `site_admin` permission; the password
/// is written beside its key and printed once.
async fn admin_password(store: &Store, keys: &Path, mut admin: UserRow) -> anyhow::Result<UserRow> {
    let password = crate::auth::jwt::random_secret()[..24].to_string();
    admin.password_hash = Some(crate::auth::password::hash(password.clone()).await?);
    store.update_user(&admin, None).await?;
    let perms = crate::store::compliance::Permissions {
        site_admin: true,
        org_admin: true,
        user_admin: true,
    };
    store.set_user_permissions(&admin.id, perms).await?;
    let path = keys.join("admin.password");
    write_key(&path, &format!("{password}\n"))?;
    println!(
        "# user 'admin' password (also in {}): {password}",
        path.display()
    );
    Ok(admin)
}

/// The superuser's key pair: configured PEM, configured file, or newly generated.
async fn superuser_key(config: &Config) -> anyhow::Result<(String, Option<String>)> {
    let pem = match (&config.superuser.key_pem, &config.superuser.key_file) {
        (Some(pem), _) => Some(pem.clone()),
        (None, Some(file)) => Some(
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?,
        ),
        (None, None) => None,
    };
    match pem {
        Some(pem) => {
            let key = signed_header::parse_private_key(&pem)
                .context("superuser key is not an RSA private key")?;
            Ok((key.to_public_key().to_public_key_pem(LineEnding::LF)?, None))
        }
        None => {
            let pair = keygen::generate().await?;
            Ok((pair.public_pem, Some(pair.private_pem)))
        }
    }
}

/// Creates a user with a `default` key; returns whether it was created.
async fn ensure_user(
    store: &Store,
    name: &str,
    display_name: &str,
    superuser: bool,
    public_key: String,
    creator: Option<&str>,
) -> anyhow::Result<UserRow> {
    let ts = now();
    let row = UserRow {
        id: new_id(),
        username: name.into(),
        email: Some(format!("{name}@localhost")),
        external_authentication_uid: None,
        recovery_authentication_enabled: false,
        password_hash: None,
        superuser,
        serialized_object: json!({ "display_name": display_name }).to_string(),
        created_at: ts,
        updated_at: ts,
    };
    let key = KeyRow {
        actor_id: row.id.clone(),
        name: "default".into(),
        public_key,
        expires_at: None,
        created_at: ts,
    };
    store.create_user(&row, Some(&key), creator).await?;
    Ok(row)
}

/// Makes sure the superuser exists and is in `server-admins`; returns the key file
/// written, if one was.
pub async fn ensure_superuser(store: &Store, config: &Config) -> anyhow::Result<Option<PathBuf>> {
    let name = &config.superuser.name;
    if let Some(u) = store.user_by_name(name).await? {
        store.add_server_admin(&u.id).await?;
        return Ok(None);
    }
    let (public, private) = superuser_key(config).await?;
    // Another process may have won the race; that is fine.
    match ensure_user(store, name, "Chef Server Superuser", true, public, None).await {
        Ok(u) => store.add_server_admin(&u.id).await?,
        Err(e) => {
            if store.user_by_name(name).await?.is_some() {
                return Ok(None);
            }
            return Err(e);
        }
    }
    match private {
        Some(pem) => {
            let path = config.keys_dir().join(format!("{name}.pem"));
            write_key(&path, &pem)?;
            tracing::info!(user = %name, key = %path.display(), "created superuser");
            Ok(Some(path))
        }
        None => Ok(None),
    }
}

/// Creates org `org` with user `admin` (in `admins`, `billing-admins` and `users`) unless
/// the org exists, and prints the knife.rb lines for it.
pub async fn bootstrap_org(
    store: &Store,
    config: &Config,
    org: &str,
    base_url: &str,
) -> anyhow::Result<()> {
    let keys = config.keys_dir();
    if store.org_by_name(org).await?.is_none() {
        let admin = match store.user_by_name("admin").await? {
            Some(u) => u,
            None => {
                let pair = keygen::generate().await?;
                let superuser = store.user_by_name(&config.superuser.name).await?;
                let creator = superuser.as_ref().map(|u| u.id.as_str());
                let u = ensure_user(
                    store,
                    "admin",
                    "Administrator",
                    false,
                    pair.public_pem,
                    creator,
                )
                .await?;
                write_key(&keys.join("admin.pem"), &pair.private_pem)?;
                admin_password(store, &keys, u).await?
            }
        };
        let (row, validator_pem) = crate::ops::create_org(store, org, org, &admin.id, false)
            .await
            .map_err(|e| anyhow::anyhow!("creating org {org}: {e}"))?;
        store
            .add_group_member(&row.id, "billing-admins", "user", &admin.id)
            .await?;
        write_key(&keys.join(format!("{org}-validator.pem")), &validator_pem)?;
        tracing::info!(org = %org, "created organization");
    }
    // knife.rb needs paths that work from wherever knife runs.
    let keys = std::fs::canonicalize(&keys).unwrap_or(keys);
    println!("# knife.rb / config.rb for Brigade:");
    println!("chef_server_url          \"{base_url}/organizations/{org}\"");
    println!("node_name                \"admin\"");
    println!(
        "client_key               \"{}\"",
        keys.join("admin.pem").display()
    );
    println!("validation_client_name   \"{org}-validator\"");
    println!(
        "validation_key           \"{}\"",
        keys.join(format!("{org}-validator.pem")).display()
    );
    Ok(())
}
