//! Data sources per organization (`data_source` table), addressed by uid or name. Secrets
//! (`secure_json_data`) are stored as the caller gives them: encrypted by `wk-secrets`.

use crate::Store;
use crate::db::{dispatch, dispatch_read, insert_id};
use crate::error::{StoreError, check_indexed, query_err, unique_err};

/// A data source as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DataSource {
    /// Row id.
    pub id: i64,
    /// Organization.
    pub org_id: i64,
    /// Unique id within the organization.
    pub uid: String,
    /// Unique name within the organization.
    pub name: String,
    /// Plugin type (`prometheus`, `testdata`, `postgres`, `mysql`, `alertmanager`, ...).
    #[sqlx(rename = "type")]
    pub kind: String,
    /// `proxy` or `direct`.
    pub access: String,
    /// URL of the service.
    pub url: String,
    /// Whether basic authentication is used.
    pub basic_auth: bool,
    /// Basic authentication user.
    pub basic_auth_user: String,
    /// The organization's default data source.
    pub is_default: bool,
    /// Provisioned from a file: not editable through the API.
    pub read_only: bool,
    /// Type-specific settings (JSON object).
    pub json_data: String,
    /// Encrypted secrets (JSON object of encrypted values), as given.
    pub secure_json_data: String,
    /// Incremented by every change.
    pub version: i64,
    /// Created, unix seconds.
    pub created: i64,
    /// Last change, unix seconds.
    pub updated: i64,
}

macro_rules! select_ds {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, uid, name, \"type\", access, url, basic_auth, basic_auth_user, \
             is_default, read_only, json_data, secure_json_data, version, created, updated \
             FROM data_source",
            $tail
        )
    };
}

impl Store {
    /// Creates a data source (its `id`, `version`, `created` and `updated` are set here); a uid
    /// or name already used is a conflict.
    pub async fn create_data_source(
        &self,
        ds: &DataSource,
        now: i64,
    ) -> Result<DataSource, StoreError> {
        const OP: &str = "create_data_source";
        check_indexed("data source uid", &ds.uid)?;
        check_indexed("data source name", &ds.name)?;
        let sql = self.insert_sql(
            "INSERT INTO data_source (org_id, uid, name, \"type\", access, url, basic_auth, \
             basic_auth_user, is_default, read_only, json_data, secure_json_data, version, \
             created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        );
        let taken = || {
            format!(
                "a data source with uid {:?} or name {:?} already exists",
                ds.uid, ds.name
            )
        };
        let id = dispatch!(self, pool => {
            insert_id(
                sqlx::query(sql)
                    .bind(ds.org_id)
                    .bind(&ds.uid)
                    .bind(&ds.name)
                    .bind(&ds.kind)
                    .bind(&ds.access)
                    .bind(&ds.url)
                    .bind(ds.basic_auth)
                    .bind(&ds.basic_auth_user)
                    .bind(ds.is_default)
                    .bind(ds.read_only)
                    .bind(&ds.json_data)
                    .bind(&ds.secure_json_data)
                    .bind(now)
                    .bind(now),
                pool,
            )
            .await
        })
        .map_err(unique_err(OP, taken))?;
        Ok(DataSource {
            id,
            version: 1,
            created: now,
            updated: now,
            ..ds.clone()
        })
    }

    /// Replaces the settings of the data source with `ds.uid` (bumping its version); `None`
    /// when it does not exist. A name used by another data source is a conflict.
    pub async fn update_data_source(
        &self,
        ds: &DataSource,
        now: i64,
    ) -> Result<Option<DataSource>, StoreError> {
        const OP: &str = "update_data_source";
        check_indexed("data source name", &ds.name)?;
        let sql = self.sql(
            "UPDATE data_source SET name = ?, \"type\" = ?, access = ?, url = ?, basic_auth = ?, \
             basic_auth_user = ?, is_default = ?, read_only = ?, json_data = ?, \
             secure_json_data = ?, version = version + 1, updated = ? \
             WHERE org_id = ? AND uid = ?",
        );
        let taken = || format!("a data source named {:?} already exists", ds.name);
        let changed = dispatch!(self, pool => {
            sqlx::query(sql)
                .bind(&ds.name)
                .bind(&ds.kind)
                .bind(&ds.access)
                .bind(&ds.url)
                .bind(ds.basic_auth)
                .bind(&ds.basic_auth_user)
                .bind(ds.is_default)
                .bind(ds.read_only)
                .bind(&ds.json_data)
                .bind(&ds.secure_json_data)
                .bind(now)
                .bind(ds.org_id)
                .bind(&ds.uid)
                .execute(pool)
                .await
                .map(|r| r.rows_affected() > 0)
        })
        .map_err(unique_err(OP, taken))?;
        if !changed {
            return Ok(None);
        }
        self.data_source(ds.org_id, &ds.uid).await
    }

    /// The data source with `uid`.
    pub async fn data_source(
        &self,
        org_id: i64,
        uid: &str,
    ) -> Result<Option<DataSource>, StoreError> {
        let sql = self.sql(select_ds!(" WHERE org_id = ? AND uid = ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, DataSource>(sql).bind(org_id).bind(uid).fetch_optional(pool).await
        })
        .map_err(query_err("data_source"))
    }

    /// The data source named `name`.
    pub async fn data_source_by_name(
        &self,
        org_id: i64,
        name: &str,
    ) -> Result<Option<DataSource>, StoreError> {
        let sql = self.sql(select_ds!(" WHERE org_id = ? AND name = ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, DataSource>(sql).bind(org_id).bind(name).fetch_optional(pool).await
        })
        .map_err(query_err("data_source_by_name"))
    }

    /// The organization's data sources, by name.
    pub async fn data_sources(&self, org_id: i64) -> Result<Vec<DataSource>, StoreError> {
        let sql = self.sql(select_ds!(" WHERE org_id = ?"));
        let mut all = dispatch_read!(self, pool => {
            sqlx::query_as::<_, DataSource>(sql).bind(org_id).fetch_all(pool).await
        })
        .map_err(query_err("data_sources"))?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// Deletes the data source with `uid`; false when it did not exist.
    pub async fn delete_data_source(&self, org_id: i64, uid: &str) -> Result<bool, StoreError> {
        let sql = self.sql("DELETE FROM data_source WHERE org_id = ? AND uid = ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(org_id).bind(uid).execute(pool).await.map(|r| r.rows_affected() > 0)
        })
        .map_err(query_err("delete_data_source"))
    }
}
