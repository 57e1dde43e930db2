//! The route table: every endpoint with the requirement it declares.

mod admin;
mod admin_config;
mod alertmanager_config;
mod alertmanager_v1;
mod alertmanager_v2;

pub(crate) use alertmanager_v2::no_store;
mod api_keys;
mod datasources;
mod folders;
mod health;
mod login;
mod org_users;
mod orgs;
mod provisioning_rules;
mod rule_state;
mod rule_test;
mod ruler;
mod user;
mod views;

use crate::Need;
use crate::router::RouteTable;

/// All routes of the API.
pub(crate) fn table() -> RouteTable {
    RouteTable::new()
        .add(
            "GET",
            "/api/alertmanager/grafana/config/api/v1/alerts",
            Need::Viewer,
            alertmanager_config::get,
        )
        .add(
            "POST",
            "/api/alertmanager/grafana/config/api/v1/alerts",
            Need::Editor,
            alertmanager_config::post,
        )
        .add(
            "DELETE",
            "/api/alertmanager/grafana/config/api/v1/alerts",
            Need::Editor,
            alertmanager_config::delete,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v2/alerts",
            Need::Viewer,
            alertmanager_v2::alerts::list,
        )
        .add(
            "POST",
            "/api/alertmanager/grafana/api/v2/alerts",
            Need::Editor,
            alertmanager_v2::alerts::post,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v2/alerts/groups",
            Need::Viewer,
            alertmanager_v2::alerts::groups,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v2/silences",
            Need::Viewer,
            alertmanager_v2::silences::list,
        )
        .add(
            "POST",
            "/api/alertmanager/grafana/api/v2/silences",
            Need::Editor,
            alertmanager_v2::silences::post,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v2/silence/{id}",
            Need::Viewer,
            alertmanager_v2::silences::get,
        )
        .add(
            "DELETE",
            "/api/alertmanager/grafana/api/v2/silence/{id}",
            Need::Editor,
            alertmanager_v2::silences::delete,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v2/status",
            Need::Viewer,
            alertmanager_v2::status::status,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v2/openapi.yaml",
            Need::Public,
            alertmanager_v2::openapi,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v1/status",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v1/receivers",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v1/alerts",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "POST",
            "/api/alertmanager/grafana/api/v1/alerts",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v1/alerts/groups",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v1/silences",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "POST",
            "/api/alertmanager/grafana/api/v1/silences",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v1/silence/{id}",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "DELETE",
            "/api/alertmanager/grafana/api/v1/silence/{id}",
            Need::Public,
            alertmanager_v1::gone,
        )
        .add(
            "GET",
            "/api/alertmanager/grafana/api/v2/receivers",
            Need::Viewer,
            alertmanager_v2::status::receivers,
        )
        .add("GET", "/api/folders", Need::Viewer, folders::list)
        .add("POST", "/api/folders", Need::Editor, folders::create)
        .add("GET", "/api/folders/{uid}", Need::Viewer, folders::get)
        .add("PUT", "/api/folders/{uid}", Need::Editor, folders::update)
        .add(
            "DELETE",
            "/api/folders/{uid}",
            Need::Editor,
            folders::delete,
        )
        .add("GET", "/api/datasources", Need::Viewer, datasources::list)
        .add("POST", "/api/datasources", Need::Admin, datasources::create)
        .add(
            "GET",
            "/api/datasources/uid/{uid}",
            Need::Viewer,
            datasources::get_by_uid,
        )
        .add(
            "PUT",
            "/api/datasources/uid/{uid}",
            Need::Admin,
            datasources::update,
        )
        .add(
            "DELETE",
            "/api/datasources/uid/{uid}",
            Need::Admin,
            datasources::delete,
        )
        .add(
            "GET",
            "/api/datasources/name/{name}",
            Need::Viewer,
            datasources::get_by_name,
        )
        .add(
            "GET",
            "/api/ruler/grafana/api/v1/rules",
            Need::Viewer,
            ruler::get_all,
        )
        .add(
            "GET",
            "/api/ruler/grafana/api/v1/rules/{namespace}",
            Need::Viewer,
            ruler::get_namespace,
        )
        .add(
            "POST",
            "/api/ruler/grafana/api/v1/rules/{namespace}",
            Need::Editor,
            ruler::post_group,
        )
        .add(
            "DELETE",
            "/api/ruler/grafana/api/v1/rules/{namespace}",
            Need::Editor,
            ruler::delete_namespace,
        )
        .add(
            "GET",
            "/api/ruler/grafana/api/v1/rules/{namespace}/{group}",
            Need::Viewer,
            ruler::get_group,
        )
        .add(
            "DELETE",
            "/api/ruler/grafana/api/v1/rules/{namespace}/{group}",
            Need::Editor,
            ruler::delete_group,
        )
        .add(
            "GET",
            "/api/ruler/grafana/api/v1/rule/{uid}",
            Need::Viewer,
            ruler::get_rule,
        )
        .add(
            "GET",
            "/api/v1/provisioning/alert-rules",
            Need::Viewer,
            provisioning_rules::list,
        )
        .add(
            "POST",
            "/api/v1/provisioning/alert-rules",
            Need::Editor,
            provisioning_rules::create,
        )
        .add(
            "GET",
            "/api/v1/provisioning/alert-rules/{uid}",
            Need::Viewer,
            provisioning_rules::get,
        )
        .add(
            "PUT",
            "/api/v1/provisioning/alert-rules/{uid}",
            Need::Editor,
            provisioning_rules::update,
        )
        .add(
            "DELETE",
            "/api/v1/provisioning/alert-rules/{uid}",
            Need::Editor,
            provisioning_rules::delete,
        )
        .add(
            "GET",
            "/api/v1/provisioning/folder/{folder_uid}/rule-groups/{group}",
            Need::Viewer,
            provisioning_rules::get_group,
        )
        .add(
            "PUT",
            "/api/v1/provisioning/folder/{folder_uid}/rule-groups/{group}",
            Need::Editor,
            provisioning_rules::put_group,
        )
        .add(
            "DELETE",
            "/api/v1/provisioning/folder/{folder_uid}/rule-groups/{group}",
            Need::Editor,
            provisioning_rules::delete_group,
        )
        .add(
            "GET",
            "/api/v1/ngalert/admin_config",
            Need::Admin,
            admin_config::get,
        )
        .add(
            "POST",
            "/api/v1/ngalert/admin_config",
            Need::Admin,
            admin_config::post,
        )
        .add(
            "DELETE",
            "/api/v1/ngalert/admin_config",
            Need::Admin,
            admin_config::delete,
        )
        .add(
            "GET",
            "/api/v1/ngalert/alertmanagers",
            Need::Admin,
            admin_config::alertmanagers,
        )
        .add("GET", "/api/v1/ngalert", Need::Viewer, admin_config::status)
        .add(
            "POST",
            "/api/v1/rule/test/grafana",
            Need::Editor,
            rule_test::grafana,
        )
        .add("GET", "/api/health", Need::Public, health::health)
        .add("GET", "/metrics", Need::Public, health::metrics)
        .add("POST", "/login", Need::Public, login::login)
        .add("POST", "/logout", Need::Public, login::logout)
        .add("GET", "/api/user", Need::User, user::current)
        .add(
            "PUT",
            "/api/user/password",
            Need::User,
            user::change_password,
        )
        .add("GET", "/api/user/orgs", Need::User, user::orgs)
        .add(
            "POST",
            "/api/user/using/{org_id}",
            Need::User,
            user::switch_org,
        )
        .add("GET", "/api/users", Need::ServerAdmin, admin::search_users)
        .add(
            "GET",
            "/api/admin/users",
            Need::ServerAdmin,
            admin::search_users,
        )
        .add(
            "POST",
            "/api/admin/users",
            Need::ServerAdmin,
            admin::create_user,
        )
        .add(
            "DELETE",
            "/api/admin/users/{user_id}",
            Need::ServerAdmin,
            admin::delete_user,
        )
        .add(
            "PUT",
            "/api/admin/users/{user_id}/password",
            Need::ServerAdmin,
            admin::set_password,
        )
        .add(
            "PUT",
            "/api/admin/users/{user_id}/permissions",
            Need::ServerAdmin,
            admin::set_permissions,
        )
        .add("GET", "/api/org/users", Need::Admin, org_users::list)
        .add("POST", "/api/org/users", Need::Admin, org_users::add)
        .add(
            "PATCH",
            "/api/org/users/{user_id}",
            Need::Admin,
            org_users::update,
        )
        .add(
            "DELETE",
            "/api/org/users/{user_id}",
            Need::Admin,
            org_users::remove,
        )
        .add(
            "GET",
            "/api/prometheus/grafana/api/v1/rules",
            Need::Viewer,
            rule_state::rules,
        )
        .add(
            "GET",
            "/api/prometheus/grafana/api/v1/alerts",
            Need::Viewer,
            rule_state::alerts,
        )
        .add(
            "GET",
            "/api/v1/rules/history",
            Need::Viewer,
            rule_state::history,
        )
        .add("GET", "/api/orgs", Need::ServerAdmin, orgs::list)
        .add("POST", "/api/orgs", Need::ServerAdmin, orgs::create)
        .add("GET", "/api/auth/keys", Need::Admin, api_keys::list)
        .add("POST", "/api/auth/keys", Need::Admin, api_keys::create)
        .add(
            "DELETE",
            "/api/auth/keys/{key_id}",
            Need::Admin,
            api_keys::delete,
        )
}

/// Current unix time in seconds.
fn now() -> i64 {
    wk_auth::unix_now()
}
