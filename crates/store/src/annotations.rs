//! Alert state history (`annotation`): one row per state transition, written by the instance
//! that saw it (so in HA each transition is recorded once per instance), queried per rule,
//! label set and time range, and trimmed by age and count.

use crate::Store;
use crate::db::{dispatch, dispatch_read, insert_id, transaction};
use crate::error::{StoreError, query_err, truncate_indexed};

/// One recorded state transition.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Annotation {
    /// Row id (ignored when inserting).
    pub id: i64,
    /// Organization.
    pub org_id: i64,
    /// The rule.
    pub rule_uid: String,
    /// The rule's title when it happened.
    pub rule_title: String,
    /// The Watchkeeper instance that recorded it.
    pub instance: String,
    /// Hash of the alert's labels.
    pub labels_hash: String,
    /// The alert's labels (JSON object).
    pub labels: String,
    /// State before, with its reason (`Normal`, `Alerting (NoData)`).
    pub prev_state: String,
    /// State after.
    pub new_state: String,
    /// Free text (errors, summary).
    pub text: String,
    /// Values and other data (JSON).
    pub data: String,
    /// When, ms since the epoch.
    pub epoch: i64,
}

/// Which annotations to read.
#[derive(Debug, Clone, Default)]
pub struct AnnotationQuery {
    /// Organization.
    pub org_id: i64,
    /// Only this rule.
    pub rule_uid: Option<String>,
    /// Only this label set.
    pub labels_hash: Option<String>,
    /// From, ms, inclusive.
    pub from: Option<i64>,
    /// To, ms, inclusive.
    pub to: Option<i64>,
    /// At most this many, newest first (0: no limit).
    pub limit: usize,
}

impl Store {
    /// Records `rows`, in one transaction.
    pub async fn insert_annotations(&self, rows: &[Annotation]) -> Result<(), StoreError> {
        const OP: &str = "insert_annotations";
        if rows.is_empty() {
            return Ok(());
        }
        let insert: &'static str = "INSERT INTO annotation (org_id, rule_uid, rule_title, \
             instance, labels_hash, labels, prev_state, new_state, text, data, epoch) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        transaction!(self, OP, tx => {
            for r in rows {
                insert_id(
                    sqlx::query(self.insert_sql(insert))
                        .bind(r.org_id)
                        .bind(&r.rule_uid)
                        .bind(truncate_indexed(&r.rule_title))
                        .bind(truncate_indexed(&r.instance))
                        .bind(&r.labels_hash)
                        .bind(&r.labels)
                        .bind(&r.prev_state)
                        .bind(&r.new_state)
                        .bind(&r.text)
                        .bind(&r.data)
                        .bind(r.epoch),
                    &mut *tx,
                )
                .await
                .map_err(query_err(OP))?;
            }
        });
        Ok(())
    }

    /// The annotations matching `q`, newest first.
    pub async fn annotations(&self, q: &AnnotationQuery) -> Result<Vec<Annotation>, StoreError> {
        let sql = self.sql(
            "SELECT id, org_id, rule_uid, rule_title, instance, labels_hash, labels, prev_state, \
             new_state, text, data, epoch FROM annotation WHERE org_id = ? \
             AND (? = '' OR rule_uid = ?) AND (? = '' OR labels_hash = ?) \
             AND epoch >= ? AND epoch <= ? ORDER BY epoch DESC, id DESC",
        );
        let rule = q.rule_uid.as_deref().unwrap_or("");
        let hash = q.labels_hash.as_deref().unwrap_or("");
        let mut rows = dispatch_read!(self, pool => {
            sqlx::query_as::<_, Annotation>(sql)
                .bind(q.org_id)
                .bind(rule)
                .bind(rule)
                .bind(hash)
                .bind(hash)
                .bind(q.from.unwrap_or(i64::MIN))
                .bind(q.to.unwrap_or(i64::MAX))
                .fetch_all(pool)
                .await
        })
        .map_err(query_err("annotations"))?;
        if q.limit > 0 {
            rows.truncate(q.limit);
        }
        Ok(rows)
    }

    /// Deletes annotations older than `before` (ms); returns how many.
    pub async fn delete_annotations_before(&self, before: i64) -> Result<u64, StoreError> {
        let sql = self.sql("DELETE FROM annotation WHERE epoch < ?");
        dispatch!(self, pool => {
            sqlx::query(sql).bind(before).execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(query_err("delete_annotations_before"))
    }

    /// Keeps the newest `keep` annotations of each organization (by id) and deletes the rest;
    /// returns how many were deleted.
    pub async fn trim_annotations(&self, org_id: i64, keep: u64) -> Result<u64, StoreError> {
        let nth = self
            .sql("SELECT id FROM annotation WHERE org_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?");
        let offset = i64::try_from(keep).unwrap_or(i64::MAX);
        let cut: Option<i64> = dispatch_read!(self, pool => {
            sqlx::query_scalar::<_, i64>(nth).bind(org_id).bind(offset).fetch_optional(pool).await
        })
        .map_err(query_err("trim_annotations"))?;
        let Some(cut) = cut else { return Ok(0) };
        let delete = self.sql("DELETE FROM annotation WHERE org_id = ? AND id <= ?");
        dispatch!(self, pool => {
            sqlx::query(delete).bind(org_id).bind(cut).execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(query_err("trim_annotations"))
    }
}
