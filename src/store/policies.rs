//! Policyfile documents, kept in the `objects` table: a policy (`policy`, with an ACL from
//! the `policies` container), its revisions (`policy_revision`, bag = policy name), a
//! policy group (`policy_group`, ACL from `policy_groups`) and a group's choice of
//! revision for a policy (`policy_group_policy`, bag = group, name = policy, body
//! `{"revision_id": …}`). Revisions and assignments have no ACL of their own.

use super::objects::{insert_object, insert_row, ObjectRow, OBJECT_COLUMNS};
use super::{execute, on_db, Store};

pub const POLICY: &str = "policy";
pub const REVISION: &str = "policy_revision";
pub const GROUP: &str = "policy_group";
pub const ASSIGNMENT: &str = "policy_group_policy";

/// One step of a policy write; a request's steps run in one transaction.
#[derive(Debug, Clone)]
pub enum DocWrite {
    /// A new document; `acl` names the container whose ACL it copies (plus the creator).
    Create {
        obj: ObjectRow,
        acl: Option<&'static str>,
    },
    /// A new body for an existing document.
    Update { id: String, body: String },
    /// Removes a document, any ACL entries about it and the files it references.
    Delete { id: String },
    /// Sets the cookbook files a document (an artifact version) references.
    FileRefs {
        org_id: String,
        owner: String,
        checksums: Vec<String>,
    },
}

impl Store {
    /// Applies the steps in order, all or nothing.
    pub async fn write_documents(
        &self,
        writes: &[DocWrite],
        creator: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        for w in writes {
            match w {
                DocWrite::Create { obj, acl: Some(c) } => {
                    insert_object(&mut tx, obj, c, Some(creator)).await?
                }
                DocWrite::Create { obj, acl: None } => insert_row(&mut tx, obj).await?,
                DocWrite::Update { id, body } => {
                    let sql = "UPDATE objects SET body = $2, updated_at = $3 WHERE id = $1";
                    execute!(
                        tx.conn(),
                        sqlx::query(sql).bind(id).bind(body).bind(super::now())
                    )?;
                }
                DocWrite::FileRefs {
                    org_id,
                    owner,
                    checksums,
                } => super::sandboxes::set_file_refs(&mut tx, org_id, owner, checksums).await?,
                DocWrite::Delete { id } => {
                    super::sandboxes::clear_file_refs(&mut tx, id).await?;
                    super::acls::forget_entity(&mut tx, id).await?;
                    execute!(
                        tx.conn(),
                        sqlx::query("DELETE FROM objects WHERE id = $1").bind(id)
                    )?;
                }
            }
        }
        tx.commit().await
    }

    /// Documents of one kind with one name, whatever their bag (a policy's assignments
    /// across groups, say), oldest first (ids are time-ordered UUIDv7).
    pub async fn objects_named(
        &self,
        org_id: &str,
        kind: &str,
        name: &str,
    ) -> Result<Vec<ObjectRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE org_id = $1 AND kind = $2 AND name = $3 ORDER BY id"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(kind).bind(name).fetch_all(p).await)
    }

    /// All documents of one kind in an org, by bag then name.
    pub async fn objects_of_kind(
        &self,
        org_id: &str,
        kind: &str,
    ) -> Result<Vec<ObjectRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE org_id = $1 AND kind = $2 ORDER BY bag, name"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(kind).fetch_all(p).await)
    }
}
