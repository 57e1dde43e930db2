//! The state of each alert of each rule (`alert_instance`), so a restart or another instance
//! carries on where the evaluation left off. The state machine's fields are the caller's JSON
//! (`detail`); the columns beside it are what queries select on. In HA every instance writes
//! the same rows: the last writer wins, which is fine because they evaluate the same data.

use crate::Store;
use crate::db::{dispatch, dispatch_read, transaction};
use crate::error::{StoreError, query_err};

/// One alert's stored state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertInstanceRow {
    /// Organization.
    pub org_id: i64,
    /// The rule.
    pub rule_uid: String,
    /// Hash of the labels (the alert's identity within the rule).
    pub labels_hash: String,
    /// The labels (JSON object).
    pub labels: String,
    /// State name (`Alerting`, `Pending`, ...).
    pub current_state: String,
    /// When the state began, ms since the epoch.
    pub current_state_since: i64,
    /// Last evaluation, ms since the epoch.
    pub last_eval_time: i64,
    /// Everything else the state machine needs (JSON).
    pub detail: String,
}

impl Store {
    /// Writes `rows` (insert or replace), all in one transaction.
    pub async fn save_alert_instances(&self, rows: &[AlertInstanceRow]) -> Result<(), StoreError> {
        const OP: &str = "save_alert_instances";
        if rows.is_empty() {
            return Ok(());
        }
        let upsert: &'static str = self.pick(
            "INSERT INTO alert_instance (org_id, rule_uid, labels_hash, labels, current_state, \
             current_state_since, last_eval_time, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE labels = VALUES(labels), \
             current_state = VALUES(current_state), \
             current_state_since = VALUES(current_state_since), \
             last_eval_time = VALUES(last_eval_time), detail = VALUES(detail)",
            "INSERT INTO alert_instance (org_id, rule_uid, labels_hash, labels, current_state, \
             current_state_since, last_eval_time, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (org_id, rule_uid, labels_hash) DO UPDATE SET labels = excluded.labels, \
             current_state = excluded.current_state, \
             current_state_since = excluded.current_state_since, \
             last_eval_time = excluded.last_eval_time, detail = excluded.detail",
        );
        transaction!(self, OP, tx => {
            for r in rows {
                sqlx::query(self.sql(upsert))
                    .bind(r.org_id)
                    .bind(&r.rule_uid)
                    .bind(&r.labels_hash)
                    .bind(&r.labels)
                    .bind(&r.current_state)
                    .bind(r.current_state_since)
                    .bind(r.last_eval_time)
                    .bind(&r.detail)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err(OP))?;
            }
        });
        Ok(())
    }

    /// Deletes the alerts of a rule with the given label hashes (all of the rule's when
    /// `labels_hashes` is `None`).
    pub async fn delete_alert_instances(
        &self,
        org_id: i64,
        rule_uid: &str,
        labels_hashes: Option<&[String]>,
    ) -> Result<(), StoreError> {
        const OP: &str = "delete_alert_instances";
        match labels_hashes {
            None => {
                let sql = self.sql("DELETE FROM alert_instance WHERE org_id = ? AND rule_uid = ?");
                dispatch!(self, pool => {
                    sqlx::query(sql).bind(org_id).bind(rule_uid).execute(pool).await.map(|_| ())
                })
                .map_err(query_err(OP))
            }
            Some(hashes) => {
                let one: &'static str = "DELETE FROM alert_instance WHERE org_id = ? AND rule_uid = ? AND labels_hash = ?";
                transaction!(self, OP, tx => {
                    for h in hashes {
                        sqlx::query(self.sql(one))
                            .bind(org_id)
                            .bind(rule_uid)
                            .bind(h)
                            .execute(&mut *tx)
                            .await
                            .map_err(query_err(OP))?;
                    }
                });
                Ok(())
            }
        }
    }

    /// Every stored alert state (what an instance warms its state from at start).
    pub async fn alert_instances(&self) -> Result<Vec<AlertInstanceRow>, StoreError> {
        let sql = self.sql(
            "SELECT org_id, rule_uid, labels_hash, labels, current_state, current_state_since, \
             last_eval_time, detail FROM alert_instance",
        );
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, AlertInstanceRow>(sql).fetch_all(pool).await
        })
        .map_err(query_err("alert_instances"))
    }
}
