//! The ordered list of schema migrations. Append new entries at the end; never edit or reorder
//! applied ones (their ids are recorded in `migration_log`).

use crate::options::Backend;
use crate::schema::ColType::{BigInt, Bool, Id, LargeText, Text, Varchar};
use crate::schema::DefaultValue;
use crate::schema::{Column as C, Index, Table};

/// One versioned schema change.
#[derive(Debug)]
pub(crate) struct Migration {
    /// Unique, ordered id, e.g. `0001_create_org`.
    pub id: &'static str,
    /// Human-readable summary stored in the log.
    pub description: &'static str,
    /// What to do.
    pub step: Step,
}

/// Kinds of schema change (add variants, e.g. `AddColumn`, as later migrations need them).
#[derive(Debug)]
pub(crate) enum Step {
    /// Create a table and its indexes.
    CreateTable(Table),
}

impl Migration {
    /// Statements applying this migration on `backend`.
    pub(crate) fn statements(&self, backend: Backend) -> Vec<String> {
        match &self.step {
            Step::CreateTable(t) => t.create_statements(backend),
        }
    }
}

/// Bookkeeping table: one row per applied migration.
pub(crate) const MIGRATION_LOG: Table = Table {
    name: "migration_log",
    columns: &[
        C::new("id", Varchar(190)),
        C::new("description", Text),
        C::new("applied_at", BigInt),
    ],
    primary_key: &["id"],
    indexes: &[],
};

const FALSE: DefaultValue = DefaultValue::Bool(false);

/// All migrations, in order.
pub(crate) static MIGRATIONS: &[Migration] = &[
    Migration {
        id: "0001_create_org",
        description: "create table org",
        step: Step::CreateTable(Table {
            name: "org",
            columns: &[
                C::new("id", Id),
                C::new("name", Varchar(190)),
                C::new("created", BigInt),
                C::new("updated", BigInt),
            ],
            primary_key: &[],
            indexes: &[Index::unique(&["name"])],
        }),
    },
    Migration {
        id: "0002_create_user",
        description: "create table user (login and email unique case-insensitively)",
        step: Step::CreateTable(Table {
            name: "user",
            columns: &[
                C::new("id", Id),
                C::new("login", Varchar(190)),
                C::new("login_lower", Varchar(190)),
                C::new("email", Varchar(190)),
                C::new("email_lower", Varchar(190)),
                C::new("name", Text),
                C::new("password_hash", Text),
                C::new("is_admin", Bool).default(FALSE),
                C::new("is_disabled", Bool).default(FALSE),
                C::new("org_id", BigInt),
                C::new("created", BigInt),
                C::new("updated", BigInt),
                C::new("last_seen_at", BigInt).default(DefaultValue::Int(0)),
            ],
            primary_key: &[],
            indexes: &[
                Index::unique(&["login_lower"]),
                Index::unique(&["email_lower"]),
            ],
        }),
    },
    Migration {
        id: "0003_create_org_user",
        description: "create table org_user",
        step: Step::CreateTable(Table {
            name: "org_user",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("user_id", BigInt),
                C::new("role", Varchar(20)),
                C::new("created", BigInt),
                C::new("updated", BigInt),
            ],
            primary_key: &[],
            indexes: &[
                Index::unique(&["org_id", "user_id"]),
                Index::plain(&["user_id"]),
            ],
        }),
    },
    Migration {
        id: "0004_create_user_auth_token",
        description: "create table user_auth_token",
        step: Step::CreateTable(Table {
            name: "user_auth_token",
            columns: &[
                C::new("id", Id),
                C::new("user_id", BigInt),
                C::new("auth_token", Varchar(190)),
                C::new("prev_auth_token", Varchar(190)),
                C::new("user_agent", Text),
                C::new("client_ip", Text),
                C::new("auth_token_seen", Bool).default(FALSE),
                C::new("seen_at", BigInt).default(DefaultValue::Int(0)),
                C::new("rotated_at", BigInt),
                C::new("created_at", BigInt),
                C::new("updated_at", BigInt),
                C::new("revoked_at", BigInt).default(DefaultValue::Int(0)),
            ],
            primary_key: &[],
            indexes: &[
                Index::unique(&["auth_token"]),
                Index::unique(&["prev_auth_token"]),
                Index::plain(&["user_id"]),
            ],
        }),
    },
    Migration {
        id: "0005_create_api_key",
        description: "create table api_key",
        step: Step::CreateTable(Table {
            name: "api_key",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("name", Varchar(190)),
                C::new("key_hash", Varchar(190)),
                C::new("role", Varchar(20)),
                C::new("created", BigInt),
                C::new("updated", BigInt),
                C::new("expires", BigInt).nullable(),
                C::new("last_used_at", BigInt).nullable(),
            ],
            primary_key: &[],
            indexes: &[
                Index::unique(&["key_hash"]),
                Index::unique(&["org_id", "name"]),
            ],
        }),
    },
    Migration {
        id: "0006_create_login_attempt",
        description: "create table login_attempt",
        step: Step::CreateTable(Table {
            name: "login_attempt",
            columns: &[
                C::new("id", Id),
                C::new("username", Varchar(190)),
                C::new("ip_address", Varchar(190)),
                C::new("created", BigInt),
            ],
            primary_key: &[],
            indexes: &[
                Index::plain(&["username", "created"]),
                Index::plain(&["created"]),
            ],
        }),
    },
    Migration {
        id: "0007_create_kv_store",
        description: "create table kv_store",
        step: Step::CreateTable(Table {
            name: "kv_store",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("namespace", Varchar(190)),
                C::new("key", Varchar(190)),
                C::new("value", LargeText),
                C::new("created", BigInt),
                C::new("updated", BigInt),
            ],
            primary_key: &[],
            indexes: &[Index::unique(&["org_id", "namespace", "key"])],
        }),
    },
    Migration {
        id: "0008_create_alert_configuration",
        description: "create table alert_configuration (every saved version kept as history)",
        step: Step::CreateTable(Table {
            name: "alert_configuration",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("alertmanager_configuration", LargeText),
                C::new("configuration_hash", Varchar(32)),
                C::new("configuration_version", Varchar(3)),
                C::new("created_at", BigInt),
                C::new("is_default", Bool).default(FALSE),
            ],
            primary_key: &[],
            indexes: &[Index::plain(&["org_id", "id"])],
        }),
    },
    Migration {
        id: "0009_create_folder",
        description: "create table folder (alert rule folders)",
        step: Step::CreateTable(Table {
            name: "folder",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("uid", Varchar(40)),
                C::new("title", Varchar(190)),
                C::new("parent_uid", Varchar(40)).nullable(),
                C::new("version", BigInt),
                C::new("created", BigInt),
                C::new("updated", BigInt),
            ],
            primary_key: &[],
            indexes: &[Index::unique(&["org_id", "uid"])],
        }),
    },
    Migration {
        id: "0010_create_data_source",
        description: "create table data_source",
        step: Step::CreateTable(Table {
            name: "data_source",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("uid", Varchar(40)),
                C::new("name", Varchar(190)),
                C::new("type", Varchar(190)),
                C::new("access", Varchar(20)),
                C::new("url", Text),
                C::new("basic_auth", Bool).default(FALSE),
                C::new("basic_auth_user", Varchar(190)),
                C::new("is_default", Bool).default(FALSE),
                C::new("read_only", Bool).default(FALSE),
                C::new("json_data", LargeText),
                C::new("secure_json_data", LargeText),
                C::new("version", BigInt),
                C::new("created", BigInt),
                C::new("updated", BigInt),
            ],
            primary_key: &[],
            indexes: &[
                Index::unique(&["org_id", "uid"]),
                Index::unique(&["org_id", "name"]),
            ],
        }),
    },
    Migration {
        id: "0011_create_alert_rule",
        description: "create table alert_rule (the current version of each rule)",
        step: Step::CreateTable(Table {
            name: "alert_rule",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("uid", Varchar(40)),
                C::new("namespace_uid", Varchar(40)),
                C::new("rule_group", Varchar(190)),
                C::new("rule_group_idx", BigInt),
                C::new("title", Varchar(190)),
                C::new("interval_seconds", BigInt),
                C::new("is_paused", Bool).default(FALSE),
                C::new("version", BigInt),
                C::new("updated", BigInt),
                C::new("definition", LargeText),
            ],
            primary_key: &[],
            indexes: &[
                Index::unique(&["org_id", "uid"]),
                Index::plain(&["org_id", "namespace_uid", "rule_group"]),
            ],
        }),
    },
    Migration {
        id: "0012_create_alert_rule_version",
        description: "create table alert_rule_version (every saved version of every rule)",
        step: Step::CreateTable(Table {
            name: "alert_rule_version",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("rule_uid", Varchar(40)),
                C::new("namespace_uid", Varchar(40)),
                C::new("rule_group", Varchar(190)),
                C::new("version", BigInt),
                C::new("created", BigInt),
                C::new("definition", LargeText),
            ],
            primary_key: &[],
            indexes: &[Index::plain(&["org_id", "rule_uid", "version"])],
        }),
    },
    Migration {
        id: "0013_create_alert_instance",
        description: "create table alert_instance (the state of each alert of each rule)",
        step: Step::CreateTable(Table {
            name: "alert_instance",
            columns: &[
                C::new("org_id", BigInt),
                C::new("rule_uid", Varchar(40)),
                C::new("labels_hash", Varchar(64)),
                C::new("labels", LargeText),
                C::new("current_state", Varchar(20)),
                C::new("current_state_since", BigInt),
                C::new("last_eval_time", BigInt),
                C::new("detail", LargeText),
            ],
            primary_key: &["org_id", "rule_uid", "labels_hash"],
            indexes: &[],
        }),
    },
    Migration {
        id: "0014_create_annotation",
        description: "create table annotation (alert state history)",
        step: Step::CreateTable(Table {
            name: "annotation",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("rule_uid", Varchar(40)),
                C::new("rule_title", Varchar(190)),
                C::new("instance", Varchar(190)),
                C::new("labels_hash", Varchar(64)),
                C::new("labels", LargeText),
                C::new("prev_state", Varchar(60)),
                C::new("new_state", Varchar(60)),
                C::new("text", Text),
                C::new("data", LargeText),
                C::new("epoch", BigInt),
            ],
            primary_key: &[],
            indexes: &[
                Index::plain(&["org_id", "rule_uid", "epoch"]),
                Index::plain(&["org_id", "epoch"]),
                Index::plain(&["epoch"]),
            ],
        }),
    },
    Migration {
        id: "0015_create_ngalert_configuration",
        description: "create table ngalert_configuration (where each organization's alerts go)",
        step: Step::CreateTable(Table {
            name: "ngalert_configuration",
            columns: &[
                C::new("id", Id),
                C::new("org_id", BigInt),
                C::new("send_alerts_to", BigInt),
                C::new("updated", BigInt),
            ],
            primary_key: &[],
            indexes: &[Index::unique(&["org_id"])],
        }),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_ordered() {
        let ids: Vec<_> = MIGRATIONS.iter().map(|m| m.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }
}
