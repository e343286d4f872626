//! Organization membership and invitations (association requests).

use chrono::{DateTime, Utc};

use super::{execute, on_db, Store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invitation {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub user_id: String,
    pub username: String,
    /// The actor who issued the invitation.
    pub requester_id: String,
    pub created_at: DateTime<Utc>,
}

const INVITATION_SELECT: &str =
    "SELECT i.id, i.org_id, o.name AS org_name, i.user_id, u.username, i.requester_id, i.created_at \
    FROM invitations i JOIN orgs o ON o.id = i.org_id JOIN users u ON u.id = i.user_id";

impl Store {
    pub async fn org_usernames(&self, org_id: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT u.username FROM users u JOIN org_users ou ON ou.user_id = u.id WHERE ou.org_id = $1 ORDER BY u.username";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).fetch_all(p).await)
    }

    /// Removes a user from an org: membership, its groups, and the org's read access on it.
    pub async fn remove_org_user(&self, org_id: &str, user_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM org_users WHERE org_id = $1 AND user_id = $2")
                .bind(org_id)
                .bind(user_id)
        )?;
        let sql = "DELETE FROM group_members WHERE member_id = $2 AND group_id IN (SELECT id FROM groups WHERE org_id = $1)";
        execute!(tx.conn(), sqlx::query(sql).bind(org_id).bind(user_id))?;
        if let Some(read_access) = super::acls::read_access_group_id(&mut tx, org_id).await? {
            super::acls::remove_entry(&mut tx, user_id, "group", &read_access).await?;
        }
        tx.commit().await
    }

    pub async fn create_invitation(
        &self,
        id: &str,
        org_id: &str,
        user_id: &str,
        requester_id: &str,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO invitations (id, org_id, user_id, requester_id, created_at) VALUES ($1, $2, $3, $4, $5)";
        on_db!(self.pool(), p => sqlx::query(sql).bind(id).bind(org_id).bind(user_id).bind(requester_id).bind(super::now()).execute(p).await.map(|_| ()))
    }

    pub async fn invitation(&self, id: &str) -> Result<Option<Invitation>, sqlx::Error> {
        let sql = format!("{INVITATION_SELECT} WHERE i.id = $1");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)
    }

    pub async fn org_invitations(&self, org_id: &str) -> Result<Vec<Invitation>, sqlx::Error> {
        let sql = format!("{INVITATION_SELECT} WHERE i.org_id = $1 ORDER BY u.username");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).fetch_all(p).await)
    }

    pub async fn user_invitations(&self, user_id: &str) -> Result<Vec<Invitation>, sqlx::Error> {
        let sql = format!("{INVITATION_SELECT} WHERE i.user_id = $1 ORDER BY o.name");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(user_id).fetch_all(p).await)
    }

    pub async fn delete_invitation(&self, id: &str) -> Result<(), sqlx::Error> {
        on_db!(self.pool(), p => sqlx::query("DELETE FROM invitations WHERE id = $1").bind(id).execute(p).await.map(|_| ()))
    }

    /// Accepting: membership (with groups and read access) and the invitation's removal,
    /// in one transaction.
    pub async fn accept_invitation(&self, inv: &Invitation) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        super::users::add_org_user(&mut tx, &inv.org_id, &inv.user_id).await?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM invitations WHERE id = $1").bind(&inv.id)
        )?;
        tx.commit().await
    }
}
