//! Folders that hold alert rules (`folder` table), per organization, addressed by uid. Titles
//! are unique among the folders of one parent.

use crate::Store;
use crate::db::{dispatch_read, insert_id, transaction};
use crate::error::{StoreError, check_indexed, query_err, unique_err};

/// A folder.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Folder {
    /// Row id.
    pub id: i64,
    /// Organization.
    pub org_id: i64,
    /// Unique id within the organization.
    pub uid: String,
    /// Title.
    pub title: String,
    /// The parent folder's uid (`None` at the top).
    pub parent_uid: Option<String>,
    /// Incremented by every change.
    pub version: i64,
    /// Created, unix seconds.
    pub created: i64,
    /// Last change, unix seconds.
    pub updated: i64,
}

macro_rules! select_folder {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, uid, title, parent_uid, version, created, updated FROM folder",
            $tail
        )
    };
}

impl Store {
    /// Creates a folder; a uid or a title already used under the same parent is a conflict.
    pub async fn create_folder(
        &self,
        org_id: i64,
        uid: &str,
        title: &str,
        parent_uid: Option<&str>,
        now: i64,
    ) -> Result<Folder, StoreError> {
        const OP: &str = "create_folder";
        check_indexed("folder uid", uid)?;
        check_indexed("folder title", title)?;
        let same_title = self.sql(
            "SELECT COUNT(*) FROM folder WHERE org_id = ? AND title = ? \
             AND COALESCE(parent_uid, '') = ?",
        );
        let insert = self.insert_sql(
            "INSERT INTO folder (org_id, uid, title, parent_uid, version, created, updated) \
             VALUES (?, ?, ?, ?, 1, ?, ?)",
        );
        let taken = || format!("a folder with uid {uid:?} or title {title:?} already exists");
        let id = transaction!(self, OP, tx => {
            let n: i64 = sqlx::query_scalar(same_title)
                .bind(org_id)
                .bind(title)
                .bind(parent_uid.unwrap_or(""))
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err(OP))?;
            if n > 0 {
                return Err(StoreError::Conflict(taken()));
            }
            insert_id(
                sqlx::query(insert)
                    .bind(org_id)
                    .bind(uid)
                    .bind(title)
                    .bind(parent_uid)
                    .bind(now)
                    .bind(now),
                &mut *tx,
            )
            .await
            .map_err(unique_err(OP, taken))?
        });
        Ok(Folder {
            id,
            org_id,
            uid: uid.to_owned(),
            title: title.to_owned(),
            parent_uid: parent_uid.map(str::to_owned),
            version: 1,
            created: now,
            updated: now,
        })
    }

    /// The folder with `uid`.
    pub async fn folder(&self, org_id: i64, uid: &str) -> Result<Option<Folder>, StoreError> {
        let sql = self.sql(select_folder!(" WHERE org_id = ? AND uid = ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, Folder>(sql).bind(org_id).bind(uid).fetch_optional(pool).await
        })
        .map_err(query_err("folder"))
    }

    /// The organization's folders, by title.
    pub async fn folders(&self, org_id: i64) -> Result<Vec<Folder>, StoreError> {
        let sql = self.sql(select_folder!(" WHERE org_id = ?"));
        let mut all = dispatch_read!(self, pool => {
            sqlx::query_as::<_, Folder>(sql).bind(org_id).fetch_all(pool).await
        })
        .map_err(query_err("folders"))?;
        all.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.uid.cmp(&b.uid)));
        Ok(all)
    }

    /// Renames a folder (bumping its version); `None` when it does not exist. A title used by
    /// another folder under the same parent is a conflict.
    pub async fn rename_folder(
        &self,
        org_id: i64,
        uid: &str,
        title: &str,
        now: i64,
    ) -> Result<Option<Folder>, StoreError> {
        const OP: &str = "rename_folder";
        check_indexed("folder title", title)?;
        let find = self.sql(select_folder!(" WHERE org_id = ? AND uid = ?"));
        let same_title = self.sql(
            "SELECT COUNT(*) FROM folder WHERE org_id = ? AND title = ? \
             AND COALESCE(parent_uid, '') = ? AND uid <> ?",
        );
        let update = self.sql(
            "UPDATE folder SET title = ?, version = version + 1, updated = ? \
             WHERE org_id = ? AND uid = ?",
        );
        Ok(transaction!(self, OP, tx => {
            let Some(mut f) = sqlx::query_as::<_, Folder>(find)
                .bind(org_id)
                .bind(uid)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_err(OP))?
            else {
                return Ok(None);
            };
            let n: i64 = sqlx::query_scalar(same_title)
                .bind(org_id)
                .bind(title)
                .bind(f.parent_uid.as_deref().unwrap_or(""))
                .bind(uid)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err(OP))?;
            if n > 0 {
                return Err(StoreError::Conflict(format!(
                    "a folder titled {title:?} already exists"
                )));
            }
            sqlx::query(update)
                .bind(title)
                .bind(now)
                .bind(org_id)
                .bind(uid)
                .execute(&mut *tx)
                .await
                .map_err(query_err(OP))?;
            f.title = title.to_owned();
            f.version += 1;
            f.updated = now;
            Some(f)
        }))
    }

    /// Deletes a folder and the alert rules in it; false when it did not exist.
    pub async fn delete_folder(&self, org_id: i64, uid: &str) -> Result<bool, StoreError> {
        const OP: &str = "delete_folder";
        let rules = self.sql("DELETE FROM alert_rule WHERE org_id = ? AND namespace_uid = ?");
        let folder = self.sql("DELETE FROM folder WHERE org_id = ? AND uid = ?");
        Ok(transaction!(self, OP, tx => {
            sqlx::query(rules).bind(org_id).bind(uid).execute(&mut *tx).await.map_err(query_err(OP))?;
            sqlx::query(folder)
                .bind(org_id)
                .bind(uid)
                .execute(&mut *tx)
                .await
                .map_err(query_err(OP))?
                .rows_affected()
                > 0
        }))
    }
}
