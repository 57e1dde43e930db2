//! Where each organization's alerts go (`ngalert_configuration.send_alerts_to`: 0 all, 1 the
//! embedded Alertmanager only, 2 external Alertmanagers only), as Grafana's admin config.

use crate::Store;
use crate::db::{dispatch, dispatch_read};
use crate::error::{StoreError, query_err};

impl Store {
    /// The organization's choice, if one was saved.
    pub async fn send_alerts_to(&self, org_id: i64) -> Result<Option<i64>, StoreError> {
        let sql = self.sql("SELECT send_alerts_to FROM ngalert_configuration WHERE org_id = ?");
        dispatch_read!(self, pool => {
            sqlx::query_scalar::<_, i64>(sql).bind(org_id).fetch_optional(pool).await
        })
        .map_err(query_err("send_alerts_to"))
    }

    /// Saves the organization's choice.
    pub async fn set_send_alerts_to(
        &self,
        org_id: i64,
        choice: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = self.sql(self.pick(
            "INSERT INTO ngalert_configuration (org_id, send_alerts_to, updated) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE send_alerts_to = VALUES(send_alerts_to), \
             updated = VALUES(updated)",
            "INSERT INTO ngalert_configuration (org_id, send_alerts_to, updated) VALUES (?, ?, ?) \
             ON CONFLICT (org_id) DO UPDATE SET send_alerts_to = excluded.send_alerts_to, \
             updated = excluded.updated",
        ));
        dispatch!(self, pool => {
            sqlx::query(sql).bind(org_id).bind(choice).bind(now).execute(pool).await.map(|_| ())
        })
        .map_err(query_err("set_send_alerts_to"))
    }
}
