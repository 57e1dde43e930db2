//! Saved Alertmanager configurations per organization (`alert_configuration` table). Every save
//! inserts a new row, so the table doubles as history; the latest version of an organization is
//! the row with the highest id.

use crate::Store;
use crate::db::{dispatch, dispatch_read, insert_id};
use crate::error::{StoreError, query_err};

/// Version tag stored with each configuration (Grafana stores `v1`).
const CONFIGURATION_VERSION: &str = "v1";

/// One saved configuration version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertConfiguration {
    /// Row id; higher is newer.
    pub id: i64,
    /// Organization.
    pub org_id: i64,
    /// The configuration text (Grafana's JSON form).
    pub alertmanager_configuration: String,
    /// Hash of the text (hex MD5), to detect changes cheaply.
    pub configuration_hash: String,
    /// Format version tag.
    pub configuration_version: String,
    /// When saved, unix seconds.
    pub created_at: i64,
    /// Whether this is the built-in default configuration.
    pub is_default: bool,
}

macro_rules! select_cfg {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, alertmanager_configuration, configuration_hash, \
             configuration_version, created_at, is_default FROM alert_configuration",
            $tail
        )
    };
}

impl Store {
    /// Saves a new configuration version for `org_id` and returns its id.
    pub async fn save_alert_configuration(
        &self,
        org_id: i64,
        configuration: &str,
        hash: &str,
        is_default: bool,
        now: i64,
    ) -> Result<i64, StoreError> {
        let sql = self.insert_sql(
            "INSERT INTO alert_configuration (org_id, alertmanager_configuration, \
             configuration_hash, configuration_version, created_at, is_default) \
             VALUES (?, ?, ?, ?, ?, ?)",
        );
        dispatch!(self, pool => {
            insert_id(
                sqlx::query(sql)
                    .bind(org_id)
                    .bind(configuration)
                    .bind(hash)
                    .bind(CONFIGURATION_VERSION)
                    .bind(now)
                    .bind(is_default),
                pool,
            )
            .await
        })
        .map_err(query_err("save_alert_configuration"))
    }

    /// The latest saved configuration of `org_id`, if any.
    pub async fn latest_alert_configuration(
        &self,
        org_id: i64,
    ) -> Result<Option<AlertConfiguration>, StoreError> {
        let sql = self.sql(select_cfg!(" WHERE org_id = ? ORDER BY id DESC LIMIT 1"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, AlertConfiguration>(sql)
                .bind(org_id)
                .fetch_optional(pool)
                .await
        })
        .map_err(query_err("latest_alert_configuration"))
    }

    /// Up to `limit` saved configurations of `org_id`, newest first.
    pub async fn list_alert_configuration_history(
        &self,
        org_id: i64,
        limit: i64,
    ) -> Result<Vec<AlertConfiguration>, StoreError> {
        let sql = self.sql(select_cfg!(" WHERE org_id = ? ORDER BY id DESC LIMIT ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, AlertConfiguration>(sql)
                .bind(org_id)
                .bind(limit.max(0))
                .fetch_all(pool)
                .await
        })
        .map_err(query_err("list_alert_configuration_history"))
    }

    /// Deletes every saved configuration of `org_id`; returns how many rows went.
    pub async fn delete_alert_configurations(&self, org_id: i64) -> Result<u64, StoreError> {
        let sql = self.sql("DELETE FROM alert_configuration WHERE org_id = ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(org_id).execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(query_err("delete_alert_configurations"))
    }
}
