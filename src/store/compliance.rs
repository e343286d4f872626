//! The Compliance API's own records: login tokens (sessions and refresh tokens), users'
//! server-wide permissions, and teams. Users and orgs are the Infra records; an org's
//! `owners` team is its `admins` group.

use chrono::{DateTime, Utc};

use super::{execute, on_db, Store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const TOKEN_COLUMNS: &str = "id, user_id, kind, description, created_at, last_used_at, revoked_at";

/// A user's server-wide permissions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Permissions {
    pub site_admin: bool,
    pub org_admin: bool,
    pub user_admin: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// JSON object of harden/manage/patch/scan flags.
    pub permissions: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Records a token row: a password login's session (`hash` None) or a refresh token.
    pub async fn create_token(
        &self,
        row: &TokenRow,
        hash: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO compliance_tokens (id, user_id, kind, token_hash, description, \
                   created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        on_db!(self.pool(), p => sqlx::query(sql).bind(&row.id).bind(&row.user_id)
            .bind(&row.kind).bind(hash).bind(&row.description).bind(row.created_at)
            .execute(p).await.map(|_| ()))
    }

    /// The unrevoked refresh token with this hash.
    pub async fn refresh_token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM compliance_tokens \
             WHERE token_hash = $1 AND kind = 'refresh' AND revoked_at IS NULL"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(hash).fetch_optional(p).await)
    }

    /// Whether token row `id` of `user_id` exists and is not revoked (access tokens die
    /// with the row they were issued from).
    pub async fn token_active(&self, id: &str, user_id: &str) -> Result<bool, sqlx::Error> {
        let sql = "SELECT COUNT(*) FROM compliance_tokens \
                   WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
        let n: i64 = on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(id).bind(user_id).fetch_one(p).await)?;
        Ok(n > 0)
    }

    pub async fn touch_token(&self, id: &str) -> Result<(), sqlx::Error> {
        let sql = "UPDATE compliance_tokens SET last_used_at = $2 WHERE id = $1";
        on_db!(self.pool(), p => sqlx::query(sql).bind(id).bind(super::now()).execute(p).await.map(|_| ()))
    }

    /// A user's refresh tokens (revoked ones included, newest first).
    pub async fn refresh_tokens(&self, user_id: &str) -> Result<Vec<TokenRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM compliance_tokens \
             WHERE user_id = $1 AND kind = 'refresh' ORDER BY created_at DESC, id DESC"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(user_id).fetch_all(p).await)
    }

    /// Revokes token row `id` of `user_id`; false when there is no such live row.
    pub async fn revoke_token(&self, user_id: &str, id: &str) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE compliance_tokens SET revoked_at = $3 \
                   WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
        let n = on_db!(self.pool(), p => sqlx::query(sql).bind(id).bind(user_id)
            .bind(super::now()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Revokes every session and refresh token of a user but `keep` (a password change).
    pub async fn revoke_user_tokens_except(
        &self,
        user_id: &str,
        keep: &str,
    ) -> Result<(), sqlx::Error> {
        let sql = "UPDATE compliance_tokens SET revoked_at = $3 \
                   WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL";
        on_db!(self.pool(), p => sqlx::query(sql).bind(user_id).bind(keep).bind(super::now()).execute(p).await.map(|_| ()))
    }

    pub async fn user_permissions(&self, user_id: &str) -> Result<Permissions, sqlx::Error> {
        let sql = "SELECT site_admin, org_admin, user_admin FROM compliance_permissions \
                   WHERE user_id = $1";
        let row: Option<Permissions> =
            on_db!(self.pool(), p => sqlx::query_as(sql).bind(user_id).fetch_optional(p).await)?;
        Ok(row.unwrap_or_default())
    }

    pub async fn set_user_permissions(
        &self,
        user_id: &str,
        perms: Permissions,
    ) -> Result<(), sqlx::Error> {
        let sql =
            "INSERT INTO compliance_permissions (user_id, site_admin, org_admin, user_admin) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
                   site_admin = excluded.site_admin, org_admin = excluded.org_admin, \
                   user_admin = excluded.user_admin";
        on_db!(self.pool(), p => sqlx::query(sql).bind(user_id).bind(perms.site_admin)
            .bind(perms.org_admin).bind(perms.user_admin).execute(p).await.map(|_| ()))
    }

    pub async fn teams(&self, org_id: &str) -> Result<Vec<TeamRow>, sqlx::Error> {
        let sql = "SELECT id, org_id, name, permissions, created_at FROM compliance_teams \
                   WHERE org_id = $1 ORDER BY name";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(org_id).fetch_all(p).await)
    }

    /// A team of the org by id or name.
    pub async fn team(&self, org_id: &str, key: &str) -> Result<Option<TeamRow>, sqlx::Error> {
        let sql = "SELECT id, org_id, name, permissions, created_at FROM compliance_teams \
                   WHERE org_id = $1 AND (id = $2 OR name = $2) ORDER BY (id = $2) DESC LIMIT 1";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(org_id).bind(key).fetch_optional(p).await)
    }

    pub async fn create_team(&self, team: &TeamRow) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO compliance_teams (id, org_id, name, permissions, created_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_db!(self.pool(), p => sqlx::query(sql).bind(&team.id).bind(&team.org_id)
            .bind(&team.name).bind(&team.permissions).bind(team.created_at)
            .execute(p).await.map(|_| ()))
    }

    pub async fn update_team(&self, team: &TeamRow) -> Result<(), sqlx::Error> {
        let sql = "UPDATE compliance_teams SET name = $2, permissions = $3 WHERE id = $1";
        on_db!(self.pool(), p => sqlx::query(sql).bind(&team.id).bind(&team.name)
            .bind(&team.permissions).execute(p).await.map(|_| ()))
    }

    pub async fn delete_team(&self, id: &str) -> Result<(), sqlx::Error> {
        on_db!(self.pool(), p => sqlx::query("DELETE FROM compliance_teams WHERE id = $1")
            .bind(id).execute(p).await.map(|_| ()))
    }

    /// Member user ids of a team, in login order.
    pub async fn team_members(&self, team_id: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql =
            "SELECT m.user_id FROM compliance_team_members m JOIN users u ON u.id = m.user_id \
                   WHERE m.team_id = $1 ORDER BY u.username";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(team_id).fetch_all(p).await)
    }

    /// Adds users to a team, and to its org, in one transaction.
    pub async fn add_team_members(
        &self,
        team: &TeamRow,
        user_ids: &[String],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        for uid in user_ids {
            let sql = "INSERT INTO compliance_team_members (team_id, user_id) VALUES ($1, $2) \
                       ON CONFLICT DO NOTHING";
            execute!(tx.conn(), sqlx::query(sql).bind(&team.id).bind(uid))?;
            super::users::add_org_user_tx(&mut tx, &team.org_id, uid).await?;
        }
        tx.commit().await
    }

    pub async fn remove_team_member(
        &self,
        team_id: &str,
        user_id: &str,
    ) -> Result<bool, sqlx::Error> {
        let sql = "DELETE FROM compliance_team_members WHERE team_id = $1 AND user_id = $2";
        let n = on_db!(self.pool(), p => sqlx::query(sql).bind(team_id).bind(user_id)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The permissions a user holds in an org through its teams (JSON objects, merged by
    /// the caller).
    pub async fn user_team_permissions(
        &self,
        org_id: &str,
        user_id: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT t.permissions FROM compliance_teams t \
                   JOIN compliance_team_members m ON m.team_id = t.id \
                   WHERE t.org_id = $1 AND m.user_id = $2";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).bind(user_id).fetch_all(p).await)
    }

    /// Users directly in the org's `admins` group: the `owners` team.
    pub async fn org_owner_ids(&self, org_id: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT gm.member_id FROM group_members gm \
                   JOIN groups g ON g.id = gm.group_id JOIN users u ON u.id = gm.member_id \
                   WHERE g.org_id = $1 AND g.name = 'admins' AND gm.member_kind = 'user' \
                   ORDER BY u.username";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).fetch_all(p).await)
    }

    /// Puts users in the org and its `admins` group (the `owners` team), in one transaction.
    pub async fn add_org_owners(
        &self,
        org_id: &str,
        user_ids: &[String],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let gid = super::acls::group_id(&mut tx, org_id, "admins").await?;
        for uid in user_ids {
            super::users::add_org_user_tx(&mut tx, org_id, uid).await?;
            super::acls::add_member(&mut tx, &gid, "user", uid).await?;
        }
        tx.commit().await
    }

    /// Takes a user out of the org's `admins` group; false when it was not there.
    pub async fn remove_org_owner(&self, org_id: &str, user_id: &str) -> Result<bool, sqlx::Error> {
        let sql = "DELETE FROM group_members WHERE member_kind = 'user' AND member_id = $2 AND \
                   group_id IN (SELECT id FROM groups WHERE org_id = $1 AND name = 'admins')";
        let n = on_db!(self.pool(), p => sqlx::query(sql).bind(org_id).bind(user_id)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Replaces a server-wide setting.
    pub async fn set_setting(&self, name: &str, value: &str) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO settings (name, value) VALUES ($1, $2) \
                   ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        on_db!(self.pool(), p => sqlx::query(sql).bind(name).bind(value).execute(p).await.map(|_| ()))
    }

    pub async fn setting(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        let sql = "SELECT value FROM settings WHERE name = $1";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(name).fetch_optional(p).await)
    }
}
