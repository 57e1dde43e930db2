//! Organization membership (`org_user` table).

use crate::Store;
use crate::db::{dispatch, dispatch_read, transaction};
use crate::error::{StoreError, decode_err, query_err, unique_err};
use crate::role::OrgRole;

/// A member of an organization, as listed by [`Store::list_org_users`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgUserView {
    /// Organization id.
    pub org_id: i64,
    /// User id.
    pub user_id: i64,
    /// User login.
    pub login: String,
    /// User email.
    pub email: String,
    /// User display name.
    pub name: String,
    /// Role in the organization.
    #[sqlx(try_from = "String")]
    pub role: OrgRole,
    /// User's last activity, unix seconds (0 = never).
    pub last_seen_at: i64,
}

/// An organization a user belongs to, as listed by [`Store::list_user_orgs`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserOrgView {
    /// Organization id.
    pub org_id: i64,
    /// Organization name.
    pub name: String,
    /// The user's role there.
    #[sqlx(try_from = "String")]
    pub role: OrgRole,
}

impl Store {
    /// Adds `user_id` to `org_id` with `role`. An existing membership is a `Conflict`; a missing
    /// org or user is `NotFound`.
    pub async fn add_org_user(
        &self,
        org_id: i64,
        user_id: i64,
        role: OrgRole,
        now: i64,
    ) -> Result<(), StoreError> {
        const OP: &str = "add_org_user";
        let check = self.sql(
            "SELECT (SELECT COUNT(*) FROM org WHERE id = ?), (SELECT COUNT(*) FROM \"user\" WHERE id = ?)",
        );
        let insert = self.sql(
            "INSERT INTO org_user (org_id, user_id, role, created, updated) VALUES (?, ?, ?, ?, ?)",
        );
        let exists = || format!("user {user_id} is already a member of organization {org_id}");
        transaction!(self, OP, tx => {
            let (orgs, users): (i64, i64) = sqlx::query_as(check)
                .bind(org_id)
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_err(OP))?;
            if orgs == 0 {
                return Err(StoreError::NotFound(format!("organization {org_id}")));
            }
            if users == 0 {
                return Err(StoreError::NotFound(format!("user {user_id}")));
            }
            sqlx::query(insert)
                .bind(org_id)
                .bind(user_id)
                .bind(role.as_str())
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(unique_err(OP, exists))?;
        });
        Ok(())
    }

    /// Changes a member's role; false when the membership does not exist.
    pub async fn set_org_user_role(
        &self,
        org_id: i64,
        user_id: i64,
        role: OrgRole,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql =
            self.sql("UPDATE org_user SET role = ?, updated = ? WHERE org_id = ? AND user_id = ?");
        dispatch!(self, pool => {
            sqlx::query(sql)
                .bind(role.as_str())
                .bind(now)
                .bind(org_id)
                .bind(user_id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err("set_org_user_role"))
    }

    /// Removes a membership; false when it did not exist. A user whose current org was
    /// `org_id` is moved to another of their orgs (lowest id), or to 0 when none is left.
    pub async fn remove_org_user(&self, org_id: i64, user_id: i64) -> Result<bool, StoreError> {
        const OP: &str = "remove_org_user";
        let delete = self.sql("DELETE FROM org_user WHERE org_id = ? AND user_id = ?");
        let repoint = self.sql(
            "UPDATE \"user\" SET org_id = COALESCE( \
               (SELECT MIN(org_user.org_id) FROM org_user WHERE org_user.user_id = ?), 0) \
             WHERE id = ? AND org_id = ?",
        );
        Ok(transaction!(self, OP, tx => {
            let removed = sqlx::query(delete)
                .bind(org_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(query_err(OP))?
                .rows_affected()
                > 0;
            if removed {
                sqlx::query(repoint)
                    .bind(user_id)
                    .bind(user_id)
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err(OP))?;
            }
            removed
        }))
    }

    /// The user's role in `org_id`, or `None` when not a member.
    pub async fn get_org_role(
        &self,
        org_id: i64,
        user_id: i64,
    ) -> Result<Option<OrgRole>, StoreError> {
        const OP: &str = "get_org_role";
        let sql = self.sql("SELECT role FROM org_user WHERE org_id = ? AND user_id = ?");
        let role: Option<String> = dispatch_read!(self, pool => {
            sqlx::query_scalar(sql).bind(org_id).bind(user_id).fetch_optional(pool).await
        })
        .map_err(query_err(OP))?;
        role.map(|r| r.parse().map_err(|e| decode_err(OP, e)))
            .transpose()
    }

    /// Members of an organization, by login.
    pub async fn list_org_users(&self, org_id: i64) -> Result<Vec<OrgUserView>, StoreError> {
        let sql = self.sql(
            "SELECT ou.org_id, ou.user_id, u.login, u.email, u.name, ou.role, u.last_seen_at \
             FROM org_user ou JOIN \"user\" u ON u.id = ou.user_id \
             WHERE ou.org_id = ? ORDER BY u.login_lower, u.id",
        );
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, OrgUserView>(sql).bind(org_id).fetch_all(pool).await
        })
        .map_err(query_err("list_org_users"))
    }

    /// Organizations a user belongs to, by name.
    pub async fn list_user_orgs(&self, user_id: i64) -> Result<Vec<UserOrgView>, StoreError> {
        let sql = self.sql(
            "SELECT ou.org_id, o.name, ou.role FROM org_user ou JOIN org o ON o.id = ou.org_id \
             WHERE ou.user_id = ? ORDER BY o.name, o.id",
        );
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, UserOrgView>(sql).bind(user_id).fetch_all(pool).await
        })
        .map_err(query_err("list_user_orgs"))
    }

    /// Number of members with the `Admin` role in an organization.
    pub async fn count_org_admins(&self, org_id: i64) -> Result<i64, StoreError> {
        let sql = self.sql("SELECT COUNT(*) FROM org_user WHERE org_id = ? AND role = ?");
        dispatch_read!(self, pool => {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(org_id)
                .bind(OrgRole::Admin.as_str())
                .fetch_one(pool)
                .await
        })
        .map_err(query_err("count_org_admins"))
    }
}
