//! Authentication middleware: turns a session cookie, basic credentials or an API token into an
//! `Identity` in the request extensions, and sets the rotated session cookie on the way out.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use wk_auth::{AuthError, AuthMethod, Identity};

use crate::{ApiError, AppState, cookie};

/// Header that selects the organization a request acts in (Grafana's name).
const ORG_HEADER: &str = "x-grafana-org-id";

/// The identity of the request, absent when it carried no credentials.
#[derive(Clone, Debug)]
pub(crate) struct MaybeIdentity(pub Option<Identity>);

/// Resolves credentials; invalid explicit credentials (basic, bearer) are refused at once.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = client_ip(&req);
    let mut set_cookie = None;
    let identity = match resolve(&state, req.headers(), &ip, &mut set_cookie).await {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let identity = match identity {
        Some(id) => match select_org(&state, id, req.headers()).await {
            Ok(id) => Some(id),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    req.extensions_mut().insert(MaybeIdentity(identity));
    let mut resp = next.run(req).await;
    if let Some(v) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    set_cookie: &mut Option<axum::http::HeaderValue>,
) -> Result<Option<Identity>, ApiError> {
    if let Some(authz) = headers.get(header::AUTHORIZATION) {
        let authz = authz
            .to_str()
            .map_err(|_| ApiError::unauthorized("invalid Authorization header"))?;
        let (scheme, value) = authz.split_once(' ').unwrap_or((authz, ""));
        let value = value.trim();
        return match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Ok(Some(state.auth.authenticate_api_key(value).await?)),
            "basic" => {
                let (user, pass) = decode_basic(value)?;
                Ok(Some(state.auth.authenticate_basic(&user, &pass, ip).await?))
            }
            _ => Err(ApiError::unauthorized(
                "unsupported Authorization scheme: use Basic or Bearer",
            )),
        };
    }
    let Some(raw) = cookie::read(headers, &state.opts.cookie_name) else {
        return Ok(None);
    };
    match state.auth.lookup_session(&raw).await {
        Ok(found) => {
            if let Some(new) = &found.rotated {
                *set_cookie = cookie::session(&state.opts, &new.0);
            }
            let method = AuthMethod::Session {
                token_id: found.token_id,
            };
            Ok(Some(
                state.auth.identity_for_user(found.user, method).await?,
            ))
        }
        Err(AuthError::InvalidSession) => {
            *set_cookie = cookie::clear(&state.opts);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn decode_basic(value: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::unauthorized("invalid basic authentication header");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (u, p) = text.split_once(':').ok_or_else(bad)?;
    Ok((u.to_string(), p.to_string()))
}

/// Applies `X-Grafana-Org-Id`: the user must be a member of that organization.
async fn select_org(
    state: &AppState,
    mut id: Identity,
    headers: &HeaderMap,
) -> Result<Identity, ApiError> {
    let Some(v) = headers.get(ORG_HEADER) else {
        return Ok(id);
    };
    let org_id: i64 = v
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| ApiError::bad_request("X-Grafana-Org-Id: expected an organization id"))?;
    if org_id == id.org_id {
        return Ok(id);
    }
    let Some(user) = &id.user else {
        return Err(ApiError::forbidden(
            "API tokens act only in their own organization",
        ));
    };
    match state.store.get_org_role(org_id, user.id).await? {
        Some(role) => {
            id.org_id = org_id;
            id.role = role;
            Ok(id)
        }
        None => Err(ApiError::forbidden(format!(
            "user is not a member of organization {org_id}"
        ))),
    }
}

fn client_ip(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}
