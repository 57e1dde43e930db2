//! Alert rules (`alert_rule`, the current version of each rule, and `alert_rule_version`, every
//! version saved). A rule's definition is the caller's JSON; the columns beside it are what
//! queries select on. Rules are saved a whole group at a time, in one transaction, so every
//! instance polling the table sees a group either before or after a change.

use crate::Store;
use crate::db::{dispatch_read, transaction};
use crate::error::{StoreError, check_indexed, query_err, unique_err};

/// A rule as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredRule {
    /// Organization.
    pub org_id: i64,
    /// Unique id within the organization.
    pub uid: String,
    /// The folder's uid.
    pub namespace_uid: String,
    /// The evaluation group.
    pub rule_group: String,
    /// Position within the group, from 1.
    pub rule_group_idx: i64,
    /// Title.
    pub title: String,
    /// Evaluation interval of the group, seconds.
    pub interval_seconds: i64,
    /// Paused: not evaluated.
    pub is_paused: bool,
    /// Incremented by every change.
    pub version: i64,
    /// Last change, unix seconds.
    pub updated: i64,
    /// The rule itself (JSON).
    pub definition: String,
}

/// A rule to save in a group: everything but the group, position, version and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleToSave {
    /// Unique id within the organization.
    pub uid: String,
    /// Title.
    pub title: String,
    /// Paused.
    pub is_paused: bool,
    /// The rule (JSON).
    pub definition: String,
}

/// What saving a group did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSaved {
    /// Uids of new rules.
    pub created: Vec<String>,
    /// Uids of changed rules (new version).
    pub updated: Vec<String>,
    /// Uids of removed rules.
    pub deleted: Vec<String>,
}

/// A rule's uid and version, what the scheduler polls.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RuleVersion {
    /// Organization.
    pub org_id: i64,
    /// Unique id.
    pub uid: String,
    /// Version.
    pub version: i64,
}

macro_rules! select_rule {
    ($tail:literal) => {
        concat!(
            "SELECT org_id, uid, namespace_uid, rule_group, rule_group_idx, title, \
             interval_seconds, is_paused, version, updated, definition FROM alert_rule",
            $tail
        )
    };
}

fn sort_rules(rules: &mut [StoredRule]) {
    rules.sort_by(|a, b| {
        (&a.namespace_uid, &a.rule_group, a.rule_group_idx, &a.uid).cmp(&(
            &b.namespace_uid,
            &b.rule_group,
            b.rule_group_idx,
            &b.uid,
        ))
    });
}

impl Store {
    /// Makes the group `group` of folder `namespace_uid` hold exactly `rules`, in order, with
    /// `interval_seconds`: new uids are created, changed rules get a new version, rules of the
    /// group not in `rules` are deleted, and every new version is kept in `alert_rule_version`.
    /// A uid used by a rule of another group, or a title used by another rule of the folder, is
    /// a conflict, and nothing changes.
    pub async fn save_rule_group(
        &self,
        org_id: i64,
        namespace_uid: &str,
        group: &str,
        interval_seconds: i64,
        rules: &[RuleToSave],
        now: i64,
    ) -> Result<GroupSaved, StoreError> {
        const OP: &str = "save_rule_group";
        check_indexed("folder uid", namespace_uid)?;
        check_indexed("rule group", group)?;
        for r in rules {
            check_indexed("rule uid", &r.uid)?;
            check_indexed("rule title", &r.title)?;
        }
        let in_folder = self.sql(select_rule!(" WHERE org_id = ? AND namespace_uid = ?"));
        let by_uid: &'static str = select_rule!(" WHERE org_id = ? AND uid = ?");
        let insert: &'static str = "INSERT INTO alert_rule (org_id, uid, namespace_uid, rule_group, rule_group_idx, \
             title, interval_seconds, is_paused, version, updated, definition) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        let update: &'static str = "UPDATE alert_rule SET rule_group_idx = ?, title = ?, interval_seconds = ?, \
             is_paused = ?, version = ?, updated = ?, definition = ? WHERE org_id = ? AND uid = ?";
        let delete: &'static str = "DELETE FROM alert_rule WHERE org_id = ? AND uid = ?";
        let version: &'static str = "INSERT INTO alert_rule_version (org_id, rule_uid, namespace_uid, rule_group, \
             version, created, definition) VALUES (?, ?, ?, ?, ?, ?, ?)";
        let mut saved = GroupSaved::default();
        transaction!(self, OP, tx => {
            let existing: Vec<StoredRule> = sqlx::query_as(in_folder)
                .bind(org_id)
                .bind(namespace_uid)
                .fetch_all(&mut *tx)
                .await
                .map_err(query_err(OP))?;
            // Titles are unique within a folder (rules of this group take their new titles or
            // go), uids within the organization.
            for r in rules {
                if let Some(other) = existing
                    .iter()
                    .find(|e| e.rule_group != group && e.title == r.title && e.uid != r.uid)
                {
                    return Err(StoreError::Conflict(format!(
                        "a rule titled {:?} already exists in this folder (uid {})",
                        r.title, other.uid
                    )));
                }
                if rules.iter().filter(|x| x.uid == r.uid).count() > 1 {
                    return Err(StoreError::Conflict(format!("rule uid {:?} given twice", r.uid)));
                }
                if rules.iter().filter(|x| x.title == r.title).count() > 1 {
                    return Err(StoreError::Conflict(format!("rule title {:?} given twice", r.title)));
                }
            }
            for (i, r) in rules.iter().enumerate() {
                let idx = i64::try_from(i).unwrap_or(i64::MAX - 1) + 1;
                let current: Option<StoredRule> = sqlx::query_as(self.sql(by_uid))
                    .bind(org_id)
                    .bind(&r.uid)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_err(OP))?;
                let new_version = match &current {
                    Some(c) if c.namespace_uid != namespace_uid || c.rule_group != group => {
                        return Err(StoreError::Conflict(format!(
                            "rule uid {:?} belongs to group {:?} of folder {}",
                            r.uid, c.rule_group, c.namespace_uid
                        )));
                    }
                    Some(c) if c.title == r.title
                        && c.is_paused == r.is_paused
                        && c.definition == r.definition
                        && c.interval_seconds == interval_seconds =>
                    {
                        if c.rule_group_idx != idx {
                            sqlx::query(self.sql(update))
                                .bind(idx)
                                .bind(&c.title)
                                .bind(c.interval_seconds)
                                .bind(c.is_paused)
                                .bind(c.version)
                                .bind(c.updated)
                                .bind(&c.definition)
                                .bind(org_id)
                                .bind(&r.uid)
                                .execute(&mut *tx)
                                .await
                                .map_err(query_err(OP))?;
                        }
                        continue;
                    }
                    Some(c) => {
                        sqlx::query(self.sql(update))
                            .bind(idx)
                            .bind(&r.title)
                            .bind(interval_seconds)
                            .bind(r.is_paused)
                            .bind(c.version + 1)
                            .bind(now)
                            .bind(&r.definition)
                            .bind(org_id)
                            .bind(&r.uid)
                            .execute(&mut *tx)
                            .await
                            .map_err(query_err(OP))?;
                        saved.updated.push(r.uid.clone());
                        c.version + 1
                    }
                    None => {
                        sqlx::query(self.sql(insert))
                            .bind(org_id)
                            .bind(&r.uid)
                            .bind(namespace_uid)
                            .bind(group)
                            .bind(idx)
                            .bind(&r.title)
                            .bind(interval_seconds)
                            .bind(r.is_paused)
                            .bind(1_i64)
                            .bind(now)
                            .bind(&r.definition)
                            .execute(&mut *tx)
                            .await
                            .map_err(unique_err(OP, || format!("rule uid {:?} already exists", r.uid)))?;
                        saved.created.push(r.uid.clone());
                        1
                    }
                };
                sqlx::query(self.sql(version))
                    .bind(org_id)
                    .bind(&r.uid)
                    .bind(namespace_uid)
                    .bind(group)
                    .bind(new_version)
                    .bind(now)
                    .bind(&r.definition)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err(OP))?;
            }
            for gone in existing
                .iter()
                .filter(|e| e.rule_group == group && !rules.iter().any(|r| r.uid == e.uid))
            {
                sqlx::query(self.sql(delete))
                    .bind(org_id)
                    .bind(&gone.uid)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err(OP))?;
                saved.deleted.push(gone.uid.clone());
            }
        });
        Ok(saved)
    }

    /// The rules of an organization, optionally of one folder and group, ordered by folder,
    /// group and position.
    pub async fn rules(
        &self,
        org_id: i64,
        namespace_uid: Option<&str>,
        group: Option<&str>,
    ) -> Result<Vec<StoredRule>, StoreError> {
        let sql = self.sql(select_rule!(" WHERE org_id = ?"));
        let mut all: Vec<StoredRule> = dispatch_read!(self, pool => {
            sqlx::query_as::<_, StoredRule>(sql).bind(org_id).fetch_all(pool).await
        })
        .map_err(query_err("rules"))?;
        all.retain(|r| {
            namespace_uid.is_none_or(|n| r.namespace_uid == n)
                && group.is_none_or(|g| r.rule_group == g)
        });
        sort_rules(&mut all);
        Ok(all)
    }

    /// The rule with `uid`.
    pub async fn rule(&self, org_id: i64, uid: &str) -> Result<Option<StoredRule>, StoreError> {
        let sql = self.sql(select_rule!(" WHERE org_id = ? AND uid = ?"));
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, StoredRule>(sql).bind(org_id).bind(uid).fetch_optional(pool).await
        })
        .map_err(query_err("rule"))
    }

    /// Every rule of every organization (what the scheduler loads when versions changed).
    pub async fn all_rules(&self) -> Result<Vec<StoredRule>, StoreError> {
        let sql = self.sql(select_rule!(""));
        let mut all: Vec<StoredRule> = dispatch_read!(self, pool => {
            sqlx::query_as::<_, StoredRule>(sql).fetch_all(pool).await
        })
        .map_err(query_err("all_rules"))?;
        sort_rules(&mut all);
        all.sort_by_key(|r| r.org_id);
        Ok(all)
    }

    /// The uid and version of every rule, for cheap change detection.
    pub async fn rule_versions(&self) -> Result<Vec<RuleVersion>, StoreError> {
        let sql = self.sql("SELECT org_id, uid, version FROM alert_rule");
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, RuleVersion>(sql).fetch_all(pool).await
        })
        .map_err(query_err("rule_versions"))
    }

    /// The saved versions of a rule's definition, newest first: `(version, created, definition)`.
    pub async fn rule_history(
        &self,
        org_id: i64,
        uid: &str,
    ) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let sql = self.sql(
            "SELECT version, created, definition FROM alert_rule_version \
             WHERE org_id = ? AND rule_uid = ? ORDER BY version DESC, id DESC",
        );
        dispatch_read!(self, pool => {
            sqlx::query_as::<_, (i64, i64, String)>(sql).bind(org_id).bind(uid).fetch_all(pool).await
        })
        .map_err(query_err("rule_history"))
    }
}
